package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/logging"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/token"
)

// keysCommand runs `livygate keys generate`.
func keysCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "generate" {
		fmt.Fprintln(stderr, "livygate keys: use `livygate keys generate --algorithm ALG --out FILE`")
		return 2
	}
	fs := flag.NewFlagSet("keys generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("algorithm", "RS256", "signing algorithm: RS256, RS512, ES256 or EdDSA")
	out := fs.String("out", "", "file to write the private key to (must not exist)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "livygate keys generate: --out FILE is required, and nothing else")
		return 2
	}
	key, pem, err := token.Generate(*alg)
	if err != nil {
		fmt.Fprintf(stderr, "livygate keys generate: %v\n", err)
		return 2
	}
	// O_EXCL: never overwrite a key that may still be signing.
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "livygate keys generate: %v\n", err)
		return 1
	}
	if _, err := f.Write(pem); err != nil {
		f.Close()
		os.Remove(*out)
		fmt.Fprintf(stderr, "livygate keys generate: writing %s: %v\n", *out, err)
		return 1
	}
	if err := f.Close(); err != nil {
		os.Remove(*out)
		fmt.Fprintf(stderr, "livygate keys generate: writing %s: %v\n", *out, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s key written to %s (mode 0600), kid %s\n", key.Algorithm, *out, key.ID)
	return 0
}

// tokenCommand runs `livygate token fetch|mint`.
func tokenCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "fetch":
			return tokenFetch(args[1:], stdout, stderr)
		case "mint":
			return tokenMint(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, "livygate token: use `livygate token fetch …` (from a driver node) or `livygate token mint …` (on the gateway host)")
	return 2
}

// tokenMint signs a token with the configured key, for operators on the
// gateway host.
func tokenMint(args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("token mint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "path to the YAML configuration file")
	user := fs.String("user", "", "the user the token names")
	out := fs.String("out", "", "file to write the token to (mode 0600)")
	groups := fs.String("groups", "", "comma-separated groups (default: looked up in LDAP when configured)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgPath == "" || *user == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "livygate token mint: --config FILE, --user NAME and --out FILE are required")
		return 2
	}
	if err := auth.CheckUsername(*user); err != nil {
		fmt.Fprintf(stderr, "livygate token mint: --user: %v\n", err)
		return 2
	}
	cfg, code := loadFlags("token mint", []string{"--config", *cfgPath}, stderr, false)
	if code != 0 {
		return code
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "livygate token mint: invalid configuration: %s\n", oneLine(err))
		return 1
	}
	if !cfg.Tokens.Enabled {
		fmt.Fprintln(stderr, "livygate token mint: tokens are not enabled in the configuration (tokens.enabled)")
		return 1
	}
	minter, err := token.Open(cfg.Tokens, time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "livygate token mint: %s\n", oneLine(err))
		return 1
	}
	var gs []string
	if *groups != "" {
		for _, g := range strings.Split(*groups, ",") {
			if g = strings.TrimSpace(g); g != "" {
				gs = append(gs, g)
			}
		}
	} else if cfg.Auth.LDAP.Enabled() {
		log, closeLog := logging.New(cfg.Log, stderr)
		defer closeLog()
		l, err := auth.OpenDirectory(cfg.Auth.LDAP, log)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var id *auth.Identity
			if id, err = l.Lookup(ctx, *user); err == nil {
				gs = id.Groups
			}
		}
		if err != nil {
			if errors.Is(err, auth.ErrBadCredentials) {
				fmt.Fprintf(stderr, "livygate token mint: no LDAP user %q\n", *user)
			} else {
				fmt.Fprintf(stderr, "livygate token mint: looking up %q in LDAP: %s\n", *user, oneLine(err))
			}
			return 1
		}
	}
	m, err := minter.Mint(*user, gs)
	if err != nil {
		fmt.Fprintf(stderr, "livygate token mint: %v\n", err)
		return 1
	}
	if err := writeTokenFile(*out, m.Token); err != nil {
		fmt.Fprintf(stderr, "livygate token mint: %s\n", oneLine(err))
		return 1
	}
	fmt.Fprintf(stderr, "livygate: %s\n", token.MintNote(m))
	fmt.Fprintf(stderr, "livygate: token written to %s\n", *out)
	saveMint(cfg, m, stderr)
	return 0
}

// saveMint records the mint (never the token) in the store the admin UI
// reads, when store.path is set, next to the server's own mints. Failing to
// save does not change the exit code: the token is written.
func saveMint(cfg config.Config, m token.Minted, stderr io.Writer) {
	if !cfg.Store.Enabled() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, cfg.Store, store.Deps{Log: logrus.New()})
	if err == nil {
		st.RecordMint(store.MintRecord{JTI: m.ID, User: m.User, Kid: m.KeyID, IssuedAt: m.IssuedAt, ExpiresAt: m.ExpiresAt})
		err = st.Close() // writes what is queued
	}
	if err != nil {
		fmt.Fprintf(stderr, "livygate token mint: warning: the mint was not recorded in the store: %s\n", oneLine(err))
	}
}
