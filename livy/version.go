package livy

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Version is a Livy release as major.minor.patch ("0.9.0-incubating" is
// {0, 9, 0}).
type Version struct{ Major, Minor, Patch int }

// ParseVersion reads the leading numbers of a Livy version string
// ("0.9.0-incubating", "0.7.1-incubating-SNAPSHOT", "0.8").
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "v"))
	core, _, _ := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("%q is not a Livy version like 0.9.0", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return Version{}, fmt.Errorf("%q is not a Livy version like 0.9.0", s)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v is o or newer.
func (v Version) AtLeast(o Version) bool {
	if v.Major != o.Major {
		return v.Major > o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor > o.Minor
	}
	return v.Patch >= o.Patch
}

// Releases that added create fields the gateway may set.
var (
	// V08 added "ttl" (a session's maximum lifetime).
	V08 = Version{0, 8, 0}
	// V09 added "idleTimeout" (a session's own idle timeout).
	V09 = Version{0, 9, 0}
)

// ServerVersion asks Livy (GET /version) which release it is.
func (c *Client) ServerVersion(ctx context.Context) (Version, error) {
	raw, err := c.do(ctx, "GET", "/version", "")
	if err != nil {
		return Version{}, err
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return Version{}, fmt.Errorf("livy's /version answer is not JSON: %w", err)
	}
	return ParseVersion(v.Version)
}

// Brief is a session or batch as the gateway's background work reads it
// from a list: no conf, no log, no app info, so a list of thousands decodes
// quickly.
type Brief struct {
	ID        int     `json:"id"`
	Name      *string `json:"name"`
	Owner     *string `json:"owner"`
	ProxyUser *string `json:"proxyUser"`
	State     string  `json:"state"`
	Kind      string  `json:"kind"`
}

// User is the user the session runs as: its proxyUser, which the gateway
// always sets, else Livy's owner.
func (b *Brief) User() string {
	if b.ProxyUser != nil && *b.ProxyUser != "" {
		return *b.ProxyUser
	}
	if b.Owner != nil {
		return *b.Owner
	}
	return ""
}

// SessionName is the session's name, or "".
func (b *Brief) SessionName() string {
	if b.Name == nil {
		return ""
	}
	return *b.Name
}

// ListAll returns every session or batch Livy knows, briefly, in as few
// calls as Livy allows (one, normally): the limits' count and the reaper's
// poll. It never asks for one session by id, which would refresh that
// session's heartbeat in Livy 0.9.
func (c *Client) ListAll(ctx context.Context, res Resource) ([]Brief, error) {
	return listPages[Brief](ctx, c, res, listAllPage)
}

// listAllPage is the page size ListAll asks for; Livy adds it to "from" as
// an Int.
const listAllPage = 1_000_000
