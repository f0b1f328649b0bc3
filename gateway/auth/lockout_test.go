package auth

import (
	"fmt"
	"testing"
	"time"
)

func newTestLockout(t *testing.T, max int) *Lockout {
	t.Helper()
	l, err := NewLockout(LockoutConfig{MaxFailures: max, MaxFailuresPerAddress: max, Window: time.Minute, Duration: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLockoutConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     LockoutConfig
		wantNil bool
		wantErr bool
	}{
		{name: "disabled", cfg: LockoutConfig{}, wantNil: true},
		{name: "disabled with window set", cfg: LockoutConfig{Window: time.Minute, Duration: time.Minute}, wantNil: true},
		{name: "enabled", cfg: LockoutConfig{MaxFailures: 5, Window: time.Minute, Duration: time.Minute}},
		{name: "negative", cfg: LockoutConfig{MaxFailures: -1}, wantNil: true, wantErr: true},
		{name: "no window", cfg: LockoutConfig{MaxFailures: 5, Duration: time.Minute}, wantNil: true, wantErr: true},
		{name: "no duration", cfg: LockoutConfig{MaxFailures: 5, Window: time.Minute}, wantNil: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLockout(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if (l == nil) != tt.wantNil {
				t.Fatalf("lockout = %v, want nil %v", l, tt.wantNil)
			}
		})
	}
	// A nil (disabled) lockout never locks.
	var l *Lockout
	now := time.Now()
	for range 100 {
		l.Failure("alice", "192.0.2.1", now)
	}
	l.Success(now, "alice")
	if l.Check("alice", "192.0.2.1", now) != nil {
		t.Fatal("disabled lockout locked")
	}
}

func TestLockoutPerUser(t *testing.T) {
	l := newTestLockout(t, 3)
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 2 {
		l.Failure("alice", fmt.Sprint("192.0.2.", i), t0)
	}
	if l.Check("alice", "198.51.100.1", t0) != nil {
		t.Fatal("locked after 2 of 3 failures")
	}
	l.Failure("Alice", "192.0.2.9", t0.Add(10*time.Second)) // same user, another spelling
	locked := l.Check("alice", "198.51.100.1", t0.Add(70*time.Second))
	if locked == nil {
		t.Fatal("not locked after 3 failures")
	}
	if want := 5*time.Minute - 60*time.Second; locked.RetryAfter != want {
		t.Errorf("RetryAfter = %v, want %v", locked.RetryAfter, want)
	}
	if l.Check("bob", "198.51.100.1", t0.Add(70*time.Second)) != nil {
		t.Error("bob locked by alice's failures")
	}
	if l.Check("alice", "198.51.100.1", t0.Add(10*time.Second+5*time.Minute)) != nil {
		t.Error("still locked after Duration")
	}
}

func TestLockoutPerAddress(t *testing.T) {
	l := newTestLockout(t, 3)
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 3 {
		l.Failure(fmt.Sprint("user", i), "203.0.113.5", t0)
	}
	if l.Check("carol", "203.0.113.5", t0) == nil {
		t.Fatal("address not locked after 3 failures for different users")
	}
	if l.Check("carol", "203.0.113.6", t0) != nil {
		t.Fatal("another address locked")
	}
	// A success clears the user's count, never the address's.
	l.Success(t0, "user0")
	if l.Check("carol", "203.0.113.5", t0) == nil {
		t.Fatal("a success unlocked the address")
	}
}

func TestLockoutWindow(t *testing.T) {
	l := newTestLockout(t, 3) // window 1m
	t0 := time.Unix(1_700_000_000, 0)
	l.Failure("alice", "", t0)
	l.Failure("alice", "", t0.Add(30*time.Second))
	// The window opened at t0 closes at t0+1m: the count starts again.
	l.Failure("alice", "", t0.Add(61*time.Second))
	l.Failure("alice", "", t0.Add(62*time.Second))
	if l.Check("alice", "", t0.Add(62*time.Second)) != nil {
		t.Fatal("failures from an expired window counted")
	}
	l.Failure("alice", "", t0.Add(63*time.Second))
	if l.Check("alice", "", t0.Add(63*time.Second)) == nil {
		t.Fatal("3 failures within a window did not lock")
	}
}

func TestLockoutSuccessClearsUser(t *testing.T) {
	l := newTestLockout(t, 3)
	t0 := time.Unix(1_700_000_000, 0)
	l.Failure("alice", "192.0.2.1", t0)
	l.Failure("alice", "192.0.2.2", t0)
	l.Success(t0, "ALICE ") // clears the folded key
	l.Failure("alice", "192.0.2.3", t0)
	l.Failure("alice", "192.0.2.4", t0)
	if l.Check("alice", "192.0.2.5", t0) != nil {
		t.Fatal("success did not clear the user's count")
	}
}

func TestLockoutBoundedMemory(t *testing.T) {
	l := newTestLockout(t, 3)
	l.maxKeys = 500
	t0 := time.Unix(1_700_000_000, 0)

	// Spread over time: dead entries are pruned, the tables stay small.
	for i := range 20_000 {
		now := t0.Add(time.Duration(i) * time.Second)
		l.Failure(fmt.Sprint("user", i), fmt.Sprint("10.0.", i/256%256, ".", i%256), now)
	}
	users, addrs := l.len()
	if users > 500 || addrs > 500 {
		t.Fatalf("tables hold %d users, %d addresses; bound is 500", users, addrs)
	}

	// All at once (nothing expires): the hard bound holds.
	l2 := newTestLockout(t, 1) // every failure locks
	l2.maxKeys = 300
	for i := range 5_000 {
		l2.Failure(fmt.Sprint("u", i), fmt.Sprint("a", i), t0)
	}
	users, addrs = l2.len()
	if users > 300 || addrs > 300 {
		t.Fatalf("tables hold %d users, %d addresses; hard bound is 300", users, addrs)
	}

	// Everything expired: one more failure sweeps the table.
	later := t0.Add(time.Hour)
	l2.users.nextPrune = 0
	l2.addrs.nextPrune = 0
	l2.Failure("late", "late-addr", later)
	users, addrs = l2.len()
	if users != 1 || addrs != 1 {
		t.Fatalf("after expiry the tables hold %d users, %d addresses, want 1 and 1", users, addrs)
	}
}

func TestClientAddr(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.1:5000", "192.0.2.1"},
		{"192.0.2.1", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:22", "fe80::/64"},
		{"[::1]:8998", "::/64"},
		{"not-an-address", "not-an-address"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := clientAddr(tt.remote); got != tt.want {
			t.Errorf("clientAddr(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}

func TestLockoutUserKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"Alice", "alice"},
		{" alice ", "alice"},
		{"ALICE\t", "alice"},
		{"alice  smith", "alice smith"},
		{"ÅSA", "åsa"},
		{`d*ve(x)\u`, `d*ve(x)\u`},
	}
	for _, tt := range tests {
		if got := lockoutUserKey(tt.in); got != tt.want {
			t.Errorf("lockoutUserKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
