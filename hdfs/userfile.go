package hdfs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
)

// FileFS is an FS that also writes files into users' homes.
type FileFS interface {
	FS
	WriteFile(name string, data []byte, perm os.FileMode) error
	Rename(oldpath, newpath string) error
	Remove(name string) error
}

// ConnectFiles is Connect for writing files (the pooled client does both).
func ConnectFiles(addresses []string, user string) (FileFS, func() error, error) {
	fs, done, err := Connect(addresses, user)
	if err != nil {
		return nil, nil, err
	}
	return fs.(FileFS), done, nil
}

// ErrNoHome means the user has no HDFS home to write into (run a sync).
var ErrNoHome = errors.New("no HDFS home")

// WriteUserFile writes data to <home>/<dir>/<file> so that only user can
// read it: dir is made (mode 0700) and file written (mode 0600), both owned
// by user and the home's group. The file is replaced atomically: readers see
// the old content or the new, never a part. It returns the file's path.
func WriteUserFile(fs FileFS, home, dir, file, user string, data []byte) (string, error) {
	fi, err := fs.Stat(home)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%w: %s does not exist", ErrNoHome, home)
		}
		return "", err
	}
	owner, group, ok := ownerOf(fi)
	if !fi.IsDir() || !ok || owner != user {
		return "", fmt.Errorf("%w: %s is not a directory owned by %s", ErrNoHome, home, user)
	}
	d := path.Join(home, dir)
	if err := fs.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	if err := fs.Chown(d, user, group); err != nil {
		return "", err
	}
	if err := fs.Chmod(d, 0o700); err != nil {
		return "", err
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	tmp := path.Join(d, "."+file+"."+hex.EncodeToString(nonce[:]))
	target := path.Join(d, file)
	if err := fs.WriteFile(tmp, data, 0o600); err != nil {
		_ = fs.Remove(tmp)
		return "", err
	}
	if err := fs.Chown(tmp, user, group); err != nil {
		_ = fs.Remove(tmp)
		return "", err
	}
	if err := fs.Rename(tmp, target); err != nil {
		_ = fs.Remove(tmp)
		return "", err
	}
	return target, nil
}
