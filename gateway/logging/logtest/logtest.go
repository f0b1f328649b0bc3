// Package logtest holds the logger that tests hand to code that logs.
package logtest

import (
	"bytes"
	"io"
	"sync"

	"github.com/sirupsen/logrus"
)

// Discard returns a logger that writes nowhere.
func Discard() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// Buffer collects log output written from several goroutines; String may
// be called while they write.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
