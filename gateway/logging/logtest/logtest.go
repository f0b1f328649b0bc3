// Package logtest holds the logger that tests hand to code that logs.
package logtest

import (
	"io"

	"github.com/sirupsen/logrus"
)

// Discard returns a logger that writes nowhere.
func Discard() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}
