package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// entryDirectory finds one entry under several spellings of its name, as a
// directory whose matching rule folds width and case does.
type entryDirectory struct {
	mu    sync.Mutex
	binds int
}

const rowanDN = "uid=rowan,ou=people,dc=example,dc=com"

func (d *entryDirectory) Verify(ctx context.Context, user, password string) (*Identity, error) {
	return d.VerifyEntry(ctx, user, password, nil)
}

func (d *entryDirectory) VerifyEntry(_ context.Context, user, password string, before func(string) error) (*Identity, error) {
	switch user {
	case "rowan", "ｒowan", "ROWAN", "ｒｏｗａｎ":
	default:
		return nil, fmt.Errorf("%w: no entry", ErrBadCredentials)
	}
	if before != nil {
		if err := before(rowanDN); err != nil {
			return nil, err
		}
	}
	d.mu.Lock()
	d.binds++
	d.mu.Unlock()
	if password != "rowan-pw" {
		return nil, &BadPasswordError{Entry: rowanDN, Name: "rowan"}
	}
	return &Identity{User: "rowan", Method: "fake", Entry: rowanDN}, nil
}

// Issue 11, item 4: failures count per directory entry, so a look-alike
// spelling of a locked user's name gets no fresh tries, and the right
// password under it does not log in while the entry is locked.
func TestLockoutCountsPerDirectoryEntry(t *testing.T) {
	ctx := context.Background()
	for _, spellings := range [][]string{
		{"rowan", "rowan", "rowan"},
		{"rowan", "ｒowan", "ｒｏｗａｎ"}, // spread over look-alikes
	} {
		d := &entryDirectory{}
		c := newClock()
		b := newTestBasic(t, testAuthConfig(), d, c) // 3 failures → locked
		for i, u := range spellings {
			_, err := b.Authenticate(ctx, basicRequest(u, "wrong", fmt.Sprintf("192.0.2.%d:1", i+1)))
			if !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("%v failure %d: %v", spellings, i+1, err)
			}
		}
		binds := d.binds
		for _, u := range []string{"rowan", "ｒowan", "ｒｏｗａｎ", "ROWAN"} {
			for _, pw := range []string{"rowan-pw", "wrong"} {
				_, err := b.Authenticate(ctx, basicRequest(u, pw, "198.51.100.9:1"))
				var locked *LockedError
				if !errors.As(err, &locked) {
					t.Errorf("%v then %s/%s: %v, want locked", spellings, u, pw, err)
				}
			}
		}
		if d.binds != binds {
			t.Errorf("%v: a locked entry's password was tried %d times", spellings, d.binds-binds)
		}
	}
}
