#!/usr/bin/env bash
# Gathers what the EMR bootstrap action downloads next to itself, in one flat
# folder to upload to S3 as is (`make emr-bundle`; OUT, default dist/emr/):
#   bootstrap.sh, configurations.json          (deploy/emr/)
#   livygate.service, livygate-sync.service, livygate-sync.timer (deploy/systemd/)
#   livygate-emr.conf, livygate.logrotate      (deploy/emr/)
#   sparkmagic-config.json, livygate_auth.py   (deploy/sparkmagic/)
#   SHA256SUMS
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-dist/emr}

mkdir -p "$OUT"
install -m 0755 deploy/emr/bootstrap.sh "$OUT/bootstrap.sh"
install -m 0644 deploy/emr/configurations.json deploy/emr/livygate-emr.conf deploy/emr/livygate.logrotate \
	deploy/systemd/livygate.service deploy/systemd/livygate-sync.service deploy/systemd/livygate-sync.timer \
	deploy/sparkmagic/livygate_auth.py "$OUT/"
install -m 0644 deploy/sparkmagic/config.json "$OUT/sparkmagic-config.json"
files=(bootstrap.sh configurations.json livygate-emr.conf livygate.logrotate livygate.service
	livygate-sync.service livygate-sync.timer livygate_auth.py sparkmagic-config.json)
(cd "$OUT" && sha256sum "${files[@]}" >SHA256SUMS)
echo "EMR bundle in $OUT/ (upload: aws s3 cp --recursive $OUT/ s3://BUCKET/livygate/emr/)"
