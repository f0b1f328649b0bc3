// Command livygate is the Livy gateway: `livygate serve` runs it,
// `livygate check-config` validates a configuration, `livygate version`
// prints the build.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/goruntime"
	"github.com/livygate/livygate/gateway/logging"
	"github.com/livygate/livygate/gateway/metrics"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

const usage = `livygate: a secure gateway in front of Apache Livy

Usage:
  livygate serve --config FILE [--listen ADDR] [--log-level LEVEL]
  livygate sync --config FILE [--dry-run] [--report FILE] [--quiet]
  livygate check-config --config FILE
  livygate keys generate [--algorithm RS256|RS512|ES256|EdDSA] --out FILE
  livygate token mint --config FILE --user NAME --out FILE [--groups a,b]
  livygate token fetch --gateway URL --out FILE (--credentials FILE | --credentials-env VAR |
                       --hub-token-file FILE | --hub-token-env VAR) [--user NAME] [--ca-file FILE]
  livygate version

sync creates the HDFS homes of JupyterHub's users. It prints a JSON report
(to --report FILE, else stdout) and a summary line on stderr, and exits 0 when
every user is fine, 1 when some were refused or failed, 2 when it could not
run (configuration, JupyterHub, LDAP or HDFS unreachable, another sync running).

serve reloads the token keys on SIGHUP. token fetch gets the caller's token
from a running gateway (for bootstrap scripts on a Spark driver); token mint
signs one with the configured key (for operators on the gateway host). Both
write the file atomically with mode 0600 and never print the token.

Every configuration key can also be set with an environment variable
LIVYGATE_<KEY PATH> (listen.address → LIVYGATE_LISTEN_ADDRESS).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "check-config":
		return checkConfig(args[1:], stdout, stderr)
	case "sync":
		return syncUsers(args[1:], stdout, stderr)
	case "token":
		return tokenCommand(args[1:], stdout, stderr)
	case "keys":
		return keysCommand(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "livygate", buildVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "livygate: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// loadFlags parses the flags common to the subcommands and loads the
// configuration: file, then environment, then flags.
func loadFlags(name string, args []string, stderr io.Writer, serveFlags bool) (config.Config, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "path to the YAML configuration file")
	var listen, level *string
	if serveFlags {
		listen = fs.String("listen", "", "address to listen on, overriding listen.address")
		level = fs.String("log-level", "", "log level, overriding log.level")
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "livygate %s: unexpected argument %q\n", name, fs.Arg(0))
		return config.Config{}, 2
	}
	if *path == "" {
		fmt.Fprintf(stderr, "livygate %s: --config FILE is required\n", name)
		return config.Config{}, 2
	}
	cfg, err := config.Load(*path, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "livygate %s: %s\n", name, oneLine(err))
		return cfg, 1
	}
	if serveFlags {
		if *listen != "" {
			cfg.Listen.Address = *listen
		}
		if *level != "" {
			cfg.Log.Level = *level
		}
	}
	return cfg, 0
}

// reloadKeysOnHUP re-reads the configuration's token keys on each SIGHUP. A
// bad configuration keeps the keys in use and says why.
func reloadKeysOnHUP(ctx context.Context, hup <-chan os.Signal, args []string, gw *gateway.Gateway, log logrus.FieldLogger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if gw.Keys() == nil {
			log.Info("SIGHUP: tokens are off, nothing to reload")
			continue
		}
		var msgs strings.Builder
		cfg, code := loadFlags("serve", args, &msgs, true)
		err := errors.New(strings.TrimSpace(msgs.String()))
		if code == 0 {
			if err = cfg.Validate(); err == nil {
				err = gw.ReloadKeys(cfg.Tokens)
			}
		}
		if err != nil {
			log.WithField("error", oneLine(err)).Error("SIGHUP: token keys not reloaded; the old keys stay in use")
		}
	}
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

func checkConfig(args []string, stdout, stderr io.Writer) int {
	cfg, code := loadFlags("check-config", args, stderr, false)
	if code != 0 {
		return code
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "livygate check-config: the configuration has problems:")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "  -", line)
		}
		return 1
	}
	fmt.Fprintln(stdout, "configuration is valid")
	return 0
}

func serve(args []string, stderr io.Writer) int {
	cfg, code := loadFlags("serve", args, stderr, true)
	if code != 0 {
		return code
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "livygate serve: invalid configuration: %s\n", oneLine(err))
		return 1
	}
	cfg.Runtime.Apply(os.Getenv)
	log, closeLog := logging.New(cfg.Log, os.Stderr)
	defer closeLog()
	metrics.Version = buildVersion()
	gw, err := gateway.New(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "livygate serve: %s\n", oneLine(err))
		return 1
	}
	ln, err := net.Listen("tcp", cfg.Listen.Address)
	if err != nil {
		fmt.Fprintf(stderr, "livygate serve: %s\n", oneLine(err))
		return 1
	}
	scheme := "http"
	if cfg.Listen.TLSCertFile != "" {
		scheme = "https"
	}
	log.WithFields(logrus.Fields{"address": ln.Addr().String(), "livy": cfg.Livy.URL, "version": buildVersion()}).
		Infof("livygate listening on %s://%s", scheme, ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Before serving, whatever the configuration: a HUP (log rotation,
	// an operator's reload) must never kill the gateway.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadKeysOnHUP(ctx, hup, args, gw, log)
	if err := goruntime.ReleaseStartupPages(); err != nil {
		log.WithError(err).Warn("could not release the start-up pages; serving anyway")
	}
	err = gw.Serve(ctx, ln)
	if cerr := gw.Close(); cerr != nil {
		log.WithError(cerr).Error("closing the store")
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.WithError(err).Error("server stopped")
		return 1
	}
	log.Info("livygate stopped")
	return 0
}
