#!/usr/bin/env bash
# livygate's EMR bootstrap action: installs the gateway on the master node.
# See deploy/emr/README.md for the upload and the cluster definition.
#
# Everything is downloaded into a temporary directory, checked (binary
# SHA-256, `livygate version`, `livygate check-config` on the exact config and
# secrets about to be installed), and only then moved into place, one file at
# a time with rename. A failure before that point leaves the previous install
# untouched. A second run with the same inputs changes nothing and restarts
# nothing.
#
# EMR runs bootstrap actions before it installs Livy and JupyterHub, so the
# last step (enable + start, Sparkmagic config) is done by a waiter that
# polls for Livy's systemd unit in the background; see README.md.
#
# Test hooks (environment; defaults are what EMR needs):
#   ROOT            prefix of every path written or read ("")
#   LIVYGATE_USER   the service account (livygate); LIVYGATE_GROUP its group
#   LIVYGATE_OWNER  the owner of installed files (root)
#   LIVYGATE_WAIT   background | foreground | none (background)
#   LIVYGATE_WAIT_TIMEOUT, LIVYGATE_WAIT_INTERVAL  seconds (3600, 10)
set -euo pipefail
umask 077

prog=livygate-bootstrap
usage() {
	cat >&2 <<'EOF'
usage: bootstrap.sh --binary S3URL --sha256 HEX --config S3URL --bundle S3PREFIX
                    [--secrets S3PREFIX] [--sparkmagic-url URL]
                    [--sparkmagic-auth JupyterHubToken|Basic_Access]

  --binary S3URL      the livygate binary for this node's architecture
                      (s3://bucket/path/livygate-<version>-linux-amd64)
  --sha256 HEX        its SHA-256 (from the release's SHA256SUMS); checked
                      before anything is installed
  --config S3URL      livygate.yaml, installed as /etc/livygate/livygate.yaml
  --bundle S3PREFIX   where `make emr-bundle` was uploaded (systemd units,
                      log rotation, Sparkmagic template): s3://bucket/livygate/emr/
  --secrets S3PREFIX  optional: every file under it is installed in
                      /etc/livygate/secrets/ (mode 0640, group livygate);
                      files no longer there are removed
  --sparkmagic-url URL   optional: once JupyterHub is installed, point its
                      Sparkmagic (/etc/jupyter/conf/config.json) at this URL
  --sparkmagic-auth A    JupyterHubToken (default: the notebook's Hub token,
                      livygate_auth.py is copied into the jupyterhub
                      container) or Basic_Access (LDAP name and password)
EOF
}
die() { echo "$prog: $*" >&2; exit 1; }
bad_usage() { echo "$prog: $*" >&2; usage; exit 2; }
log() { echo "$prog: $*"; }

# ---- arguments ----------------------------------------------------------
orig_args=("$@")
binary_url='' sha='' config_url='' bundle='' secrets='' sm_url='' sm_auth=JupyterHubToken
while [ $# -gt 0 ]; do
	case $1 in
	--binary | --sha256 | --config | --bundle | --secrets | --sparkmagic-url | --sparkmagic-auth)
		[ $# -ge 2 ] || bad_usage "$1 needs a value"
		case $1 in
		--binary) binary_url=$2 ;;
		--sha256) sha=$2 ;;
		--config) config_url=$2 ;;
		--bundle) bundle=$2 ;;
		--secrets) secrets=$2 ;;
		--sparkmagic-url) sm_url=$2 ;;
		--sparkmagic-auth) sm_auth=$2 ;;
		esac
		shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) bad_usage "unexpected argument '$1'" ;;
	esac
done
[ -n "$binary_url" ] || bad_usage "--binary is required"
[ -n "$sha" ] || bad_usage "--sha256 is required"
[ -n "$config_url" ] || bad_usage "--config is required"
[ -n "$bundle" ] || bad_usage "--bundle is required"
for u in "$binary_url" "$config_url" "$bundle" ${secrets:+"$secrets"}; do
	case $u in s3://?*/*) ;; *) bad_usage "'$u' is not an s3://bucket/key URL" ;; esac
done
sha=$(printf '%s' "$sha" | tr 'A-F' 'a-f')
[[ $sha =~ ^[0-9a-f]{64}$ ]] || bad_usage "--sha256 must be 64 hexadecimal digits"
bundle=${bundle%/}/
[ -z "$secrets" ] || secrets=${secrets%/}/
case $sm_url in '' | http://?* | https://?*) ;; *) bad_usage "--sparkmagic-url must be an http(s):// URL" ;; esac
case $sm_url in *[[:space:]\"\\\#\&]*) bad_usage "--sparkmagic-url must not hold spaces, quotes, backslashes, # or &" ;; esac
case $sm_auth in JupyterHubToken | Basic_Access) ;; *) bad_usage "--sparkmagic-auth must be JupyterHubToken or Basic_Access" ;; esac

ROOT=${ROOT:-}
svc_user=${LIVYGATE_USER:-livygate}
svc_group=${LIVYGATE_GROUP:-$svc_user}
owner=${LIVYGATE_OWNER:-root}
wait_mode=${LIVYGATE_WAIT:-background}
wait_timeout=${LIVYGATE_WAIT_TIMEOUT:-3600}
wait_interval=${LIVYGATE_WAIT_INTERVAL:-10}
case $wait_mode in background | foreground | none) ;; *) die "LIVYGATE_WAIT must be background, foreground or none" ;; esac

# ---- master only ----------------------------------------------------------
info=$ROOT/mnt/var/lib/info/instance.json
[ -r "$info" ] || die "$info not found: not an EMR node?"
if ! grep -Eq '"isMaster"[[:space:]]*:[[:space:]]*true' "$info"; then
	log "not the master node ($info): nothing to do"
	exit 0
fi

# EMR runs bootstrap actions as the hadoop user, with password-less sudo.
if [ -z "$ROOT" ] && [ "$EUID" -ne 0 ]; then
	exec sudo -n bash "$0" "${orig_args[@]}"
fi

for tool in aws sha256sum systemctl install stat cmp sed; do
	command -v "$tool" >/dev/null || die "$tool not found on PATH"
done

# Installed paths.
bin_dst=$ROOT/usr/local/bin/livygate
etc=$ROOT/etc/livygate
conf_dst=$etc/livygate.yaml
sec_dst=$etc/secrets
unit_dir=$ROOT/etc/systemd/system
dropin_dir=$unit_dir/livygate.service.d
logrot_dst=$ROOT/etc/logrotate.d/livygate
log_dir=$ROOT/var/log/livygate
share=$ROOT/usr/local/share/livygate
units=(livygate.service livygate-sync.service livygate-sync.timer)

# ---- stage ----------------------------------------------------------------
mkdir -p "$ROOT/var/tmp"
stage=$(mktemp -d "$ROOT/var/tmp/livygate-bootstrap.XXXXXX")
trap 'rm -rf "$stage"' EXIT
s=$stage/root
mkdir -p "$s/bin" "$s/etc/secrets" "$s/units" "$s/share" "$stage/dl"

fetch() { # S3URL FILE
	aws s3 cp --only-show-errors "$1" "$2" >&2 || die "could not download $1"
	[ -f "$2" ] || die "could not download $1"
}

log "downloading $binary_url"
fetch "$binary_url" "$stage/dl/livygate"
got=$(sha256sum "$stage/dl/livygate" | cut -d' ' -f1)
[ "$got" = "$sha" ] || die "checksum mismatch for $binary_url: expected $sha, got $got; nothing installed"
cp "$stage/dl/livygate" "$s/bin/livygate"
chmod 0755 "$s/bin/livygate"
version=$("$s/bin/livygate" version 2>&1) || die "the binary does not run on this node (wrong architecture?): $version"
log "binary verified: $version"

fetch "$config_url" "$s/etc/livygate.yaml"

for f in "${units[@]}" livygate-emr.conf livygate.logrotate sparkmagic-config.json livygate_auth.py; do
	fetch "$bundle$f" "$stage/dl/$f"
done
for u in "${units[@]}"; do cp "$stage/dl/$u" "$s/units/$u"; done
cp "$stage/dl/livygate-emr.conf" "$s/units/emr.conf"
cp "$stage/dl/livygate.logrotate" "$s/logrotate"
cp "$stage/dl/sparkmagic-config.json" "$stage/dl/livygate_auth.py" "$s/share/"

if [ -n "$secrets" ]; then
	log "downloading the secret files under $secrets"
	aws s3 cp --only-show-errors --recursive "$secrets" "$s/etc/secrets" >&2 ||
		die "could not download the secret files under $secrets"
	[ -z "$(find "$s/etc/secrets" -mindepth 1 -not -type f -print -quit)" ] ||
		die "$secrets holds folders; only files are installed in /etc/livygate/secrets"
	[ -n "$(find "$s/etc/secrets" -type f -print -quit)" ] || die "no files under $secrets"
	for f in "$s/etc/secrets"/*; do
		case ${f##*/} in .* | *[!A-Za-z0-9._-]*) die "secret file name '${f##*/}' may hold only letters, digits and . _ - (and not start with .)" ;; esac
	done
fi

# The config names its files by their installed paths (/etc/livygate/…). The
# check runs on a copy where those point into the stage, so it sees exactly
# the config and secrets about to be installed, never the old ones.
sed "s#/etc/livygate/#$s/etc/#g" "$s/etc/livygate.yaml" >"$stage/check.yaml"
if ! out=$(env -i PATH="$PATH" "$s/bin/livygate" check-config --config "$stage/check.yaml" 2>&1); then
	printf '%s\n' "${out//"$s/etc/"//etc/livygate/}" >&2
	die "livygate check-config refused $config_url; nothing installed"
fi
log "configuration checked"

# ---- the service account --------------------------------------------------
if ! id "$svc_user" >/dev/null 2>&1; then
	log "creating the system user $svc_user"
	useradd --system --user-group --no-create-home --home-dir /var/lib/livygate \
		--shell /sbin/nologin "$svc_user" || die "useradd $svc_user failed"
fi

# ---- install: compare, then rename into place ------------------------------
changed=0 restart=0 units_changed=0
# place SRC DST MODE OWNER:GROUP — installs when content, mode or owner differ.
place() {
	local src=$1 dst=$2 mode=$3 own=$4
	if [ -f "$dst" ] && cmp -s "$src" "$dst" &&
		[ "$(stat -c '%a %U:%G' "$dst")" = "${mode#0} $own" ]; then
		return 1
	fi
	# (called in a condition, where set -e is off: every step checks itself)
	install -m "$mode" -o "${own%:*}" -g "${own#*:}" "$src" "$dst.livygate-new" ||
		die "could not write ${dst#"$ROOT"}.livygate-new"
	mv -f "$dst.livygate-new" "$dst" || die "could not move ${dst#"$ROOT"} into place"
	log "installed ${dst#"$ROOT"}"
	changed=1
}
# dir DIR MODE OWNER:GROUP
dir() {
	if [ -d "$1" ] && [ "$(stat -c '%a %U:%G' "$1")" = "${2#0} $3" ]; then return; fi
	install -d -m "$2" -o "${3%:*}" -g "${3#*:}" "$1" || die "could not create ${1#"$ROOT"}"
	{ chown "$3" "$1" && chmod "$2" "$1"; } || die "could not set the owner and mode of ${1#"$ROOT"}"
	changed=1
}

# Parents that exist on any real host; created 0755 in a test root.
(umask 022 && mkdir -p "$ROOT/usr/local/bin" "$ROOT/usr/local/share" "$unit_dir" "$ROOT/etc/logrotate.d" "$ROOT/var/log")
dir "$etc" 0750 "$owner:$svc_group"
dir "$sec_dst" 0750 "$owner:$svc_group"
dir "$log_dir" 0750 "$owner:$svc_group"
dir "$share" 0755 "$owner:$owner"
dir "$dropin_dir" 0755 "$owner:$owner"

! place "$s/bin/livygate" "$bin_dst" 0755 "$owner:$owner" || restart=1
! place "$s/etc/livygate.yaml" "$conf_dst" 0640 "$owner:$svc_group" || restart=1
if [ -n "$secrets" ]; then
	for f in "$s/etc/secrets"/*; do
		! place "$f" "$sec_dst/${f##*/}" 0640 "$owner:$svc_group" || restart=1
	done
fi
# Secret files the prefix no longer holds go (the config was checked without them).
for f in "$sec_dst"/*; do
	[ -e "$f" ] || continue
	if [ ! -e "$s/etc/secrets/${f##*/}" ]; then
		rm -f "$f"
		log "removed ${f#"$ROOT"}"
		changed=1 restart=1
	fi
done
for u in "${units[@]}"; do
	! place "$s/units/$u" "$unit_dir/$u" 0644 "$owner:$owner" || units_changed=1
done
! place "$s/units/emr.conf" "$dropin_dir/emr.conf" 0644 "$owner:$owner" || units_changed=1
place "$s/logrotate" "$logrot_dst" 0644 "$owner:$owner" || true
place "$s/share/sparkmagic-config.json" "$share/sparkmagic-config.json" 0644 "$owner:$owner" || true
place "$s/share/livygate_auth.py" "$share/livygate_auth.py" 0644 "$owner:$owner" || true
[ "$units_changed" = 0 ] || restart=1

if [ "$units_changed" = 1 ]; then
	systemctl daemon-reload || die "systemctl daemon-reload failed"
fi
if [ "$changed" = 0 ]; then
	log "already installed; nothing changed"
else
	log "installed $version"
fi

# ---- the waiter: enable once Livy exists; Sparkmagic once JupyterHub does --
livy_ready() { systemctl cat livy-server.service >/dev/null 2>&1; }
hub_ready() {
	[ -d "$ROOT/etc/jupyter/conf" ] && docker inspect -f '{{.State.Running}}' jupyterhub 2>/dev/null | grep -qx true
}

activate() {
	local deadline=$((SECONDS + wait_timeout))
	until livy_ready; do
		[ "$SECONDS" -lt "$deadline" ] || die "Livy (livy-server.service) did not appear within ${wait_timeout}s; livygate installed but not enabled: systemctl enable --now livygate.service livygate-sync.timer"
		sleep "$wait_interval"
	done
	if systemctl is-active --quiet livygate.service; then
		if [ "$restart" = 1 ]; then
			log "restarting livygate"
			systemctl restart livygate.service || die "systemctl restart livygate.service failed: journalctl -u livygate"
		fi
	fi
	if [ "$units_changed" = 1 ] && systemctl is-active --quiet livygate-sync.timer; then
		systemctl restart livygate-sync.timer || die "systemctl restart livygate-sync.timer failed"
	fi
	local unit
	for unit in livygate.service livygate-sync.timer; do
		if ! systemctl is-enabled --quiet "$unit" || ! systemctl is-active --quiet "$unit"; then
			log "enabling and starting $unit"
			systemctl enable --now "$unit" || die "systemctl enable --now $unit failed: journalctl -u ${unit%.timer}"
		fi
	done
	[ -z "$sm_url" ] || sparkmagic
}

sparkmagic() {
	local conf_dir=$ROOT/etc/jupyter/conf deadline=$((SECONDS + wait_timeout))
	until hub_ready; do
		[ "$SECONDS" -lt "$deadline" ] || die "JupyterHub (/etc/jupyter/conf and the jupyterhub container) did not appear within ${wait_timeout}s; Sparkmagic not configured"
		sleep "$wait_interval"
	done
	local new=$conf_dir/config.json.livygate-new
	sed -e "s#https://livygate.example.com:8999#$sm_url#g" \
		-e "s#\"auth\": \"JupyterHubToken\"#\"auth\": \"$sm_auth\"#g" \
		"$share/sparkmagic-config.json" >"$new"
	chmod 0644 "$new"
	if [ -f "$conf_dir/config.json" ] && cmp -s "$new" "$conf_dir/config.json"; then
		rm -f "$new"
	else
		# EMR's own file is kept once, to go back to Livy directly.
		[ ! -f "$conf_dir/config.json" ] || [ -e "$conf_dir/config.json.emr-orig" ] ||
			cp -p "$conf_dir/config.json" "$conf_dir/config.json.emr-orig"
		mv -f "$new" "$conf_dir/config.json"
		log "Sparkmagic now points at $sm_url (/etc/jupyter/conf/config.json)"
	fi
	if [ "$sm_auth" = JupyterHubToken ]; then
		local site
		site=$(docker exec jupyterhub python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') ||
			die "could not find the jupyterhub container's site-packages"
		if ! docker exec jupyterhub cat "$site/livygate_auth.py" 2>/dev/null | cmp -s - "$share/livygate_auth.py"; then
			docker cp "$share/livygate_auth.py" "jupyterhub:$site/livygate_auth.py" ||
				die "could not copy livygate_auth.py into the jupyterhub container"
			log "livygate_auth.py installed in the jupyterhub container ($site)"
		fi
	fi
}

case $wait_mode in
none) log "LIVYGATE_WAIT=none: not enabling; systemctl enable --now livygate.service livygate-sync.timer" ;;
foreground) activate ;;
background)
	if livy_ready && { [ -z "$sm_url" ] || hub_ready; }; then
		activate # everything is already here (a rerun on a running cluster)
	else
		log "waiting in the background for Livy (and JupyterHub) to be installed; log: /var/log/livygate/bootstrap-wait.log"
		trap - EXIT
		rm -rf "$stage"
		# Detached from EMR's pipes, so the bootstrap action ends now.
		(trap '' HUP && activate) </dev/null >>"$log_dir/bootstrap-wait.log" 2>&1 &
	fi ;;
esac
