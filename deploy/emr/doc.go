// Package emr holds the test of the EMR bootstrap action (bootstrap.sh):
// it runs the script under a temporary root with stub aws, systemctl, docker,
// id and useradd. The deployable files are the scripts and configs beside it;
// see README.md.
package emr
