package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/logging"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/store"
)

// syncUsers is `livygate sync`: one provisioning run, for cron.
func syncUsers(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "path to the YAML configuration file")
	dryRun := fs.Bool("dry-run", false, "print the plan without changing HDFS")
	reportPath := fs.String("report", "", "write the JSON report to this file instead of stdout")
	quiet := fs.Bool("quiet", false, "print the summary line only when the run did not go cleanly (for cron)")
	if err := fs.Parse(args); err != nil {
		return provision.ExitCouldNot
	}
	if fs.NArg() > 0 || *path == "" {
		fmt.Fprintln(stderr, "livygate sync: usage: livygate sync --config FILE [--dry-run] [--report FILE] [--quiet]")
		return provision.ExitCouldNot
	}
	cfg, err := config.Load(*path, os.Environ())
	if err == nil {
		err = cfg.ValidateSync()
	}
	if err != nil {
		fmt.Fprintf(stderr, "livygate sync: could not run: %s\n", oneLine(err))
		return provision.ExitCouldNot
	}
	log, closeLog := logging.New(cfg.Log, os.Stderr)
	defer closeLog()
	syncer, err := gateway.NewSyncer(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "livygate sync: could not run: %s\n", oneLine(err))
		return provision.ExitCouldNot
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run, _ := syncer.Run(ctx, *dryRun)
	saveRun(ctx, cfg, run, stderr)

	report, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "livygate sync: %v\n", err)
		return provision.ExitCouldNot
	}
	report = append(report, '\n')
	if *reportPath == "" {
		_, _ = stdout.Write(report)
	} else if err := writeFileAtomic(*reportPath, report); err != nil {
		fmt.Fprintf(stderr, "livygate sync: writing the report: %v\n", err)
		return provision.ExitCouldNot
	}
	if !*quiet || run.ExitCode() != provision.ExitOK {
		fmt.Fprintln(stderr, "livygate "+run.SummaryLine())
	}
	return run.ExitCode()
}

// writeFileAtomic writes data next to path and renames it into place, so a
// reader never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// saveRun adds the run to the store the admin UI reads (when store.path is
// set), so cron runs show next to the server's own. Failing to save does not
// change the exit code: the homes are what the run is for.
func saveRun(ctx context.Context, cfg config.Config, run *provision.Run, stderr io.Writer) {
	if !cfg.Store.Enabled() {
		return
	}
	st, err := store.Open(ctx, cfg.Store, store.Deps{Log: logrus.New()})
	if err == nil {
		_, err = st.SaveRun(ctx, run, "cron")
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "livygate sync: warning: the run was not saved to the store: %s\n", oneLine(err))
	}
}
