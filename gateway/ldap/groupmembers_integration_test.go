//go:build integration

package ldap_test

import (
	"context"
	"slices"
	"testing"

	"github.com/livygate/livygate/gateway/ldap"
	"github.com/livygate/livygate/gateway/ldap/ldaptest"
)

func TestIntegrationGroupMembers(t *testing.T) {
	dir := ldaptest.Start(t)
	l, err := ldap.New(dir.Config(), dir.BindPassword, nil)
	if err != nil {
		t.Fatal(err)
	}
	members, err := l.GroupMembers(context.Background(), "cn="+ldaptest.AnalystsGroup+","+ldaptest.GroupBaseDN)
	slices.Sort(members)
	if err != nil || !slices.Equal(members, []string{"alice", "bob", ldaptest.Dave}) {
		t.Errorf("analysts: %v, %v", members, err)
	}
	if _, err := l.GroupMembers(context.Background(), "not a dn"); err == nil {
		t.Error("a malformed group DN was accepted")
	}
	dir.Stop()
	if _, err := l.GroupMembers(context.Background(), "cn=x,"+ldaptest.GroupBaseDN); err == nil {
		t.Error("LDAP down gave no error")
	}
}
