package livy

import (
	"context"
	"encoding/json"
	"fmt"
)

// Entry is a session or batch as Livy lists it, with the fields an
// administrator's overview needs besides the gateway's own.
type Entry struct {
	Session
	Kind    string             `json:"kind"`
	AppID   *string            `json:"appId"`
	AppInfo map[string]*string `json:"appInfo"`
}

// SparkUI is the entry's Spark UI address, or "".
func (e Entry) SparkUI() string {
	if u := e.AppInfo["sparkUiUrl"]; u != nil {
		return *u
	}
	return ""
}

// listPage is how many items List asks Livy for at once.
const listPage = 100

// List returns every session or batch Livy knows, following its paging.
func (c *Client) List(ctx context.Context, res Resource) ([]Entry, error) {
	return listPages[Entry](ctx, c, res, listPage)
}

// listPages reads a whole Livy list, pageSize items a call, decoding each
// item as T (the full Entry, or the lighter Brief).
func listPages[T any](ctx context.Context, c *Client, res Resource, pageSize int) ([]T, error) {
	var all []T
	for from := 0; ; {
		raw, err := c.do(ctx, "GET", "/"+string(res), fmt.Sprintf("from=%d&size=%d", from, pageSize))
		if err != nil {
			return nil, err
		}
		var page struct {
			Total    int `json:"total"`
			Sessions []T `json:"sessions"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, fmt.Errorf("livy sent a %s list that is not JSON: %w", res, err)
		}
		all = append(all, page.Sessions...)
		from += len(page.Sessions)
		if len(page.Sessions) == 0 || from >= page.Total {
			return all, nil
		}
	}
}
