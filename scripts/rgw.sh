#!/usr/bin/env bash
# A throwaway Ceph RADOS Gateway for the test suites: one mon, one memstore OSD
# (pools of size 1, data in memory), auth none, radosgw's beast frontend on a
# free 127.0.0.1 port. Everything lives in one folder and dies with `stop`.
#
#   scripts/rgw.sh start   # idempotent: starts it or finds it running; prints the env line
#   scripts/rgw.sh env     # prints `export LOGJAM_TEST_RGW=http://127.0.0.1:PORT` (exit 1 if not running)
#   scripts/rgw.sh stop    # stops the daemons by pid and removes the folder
#
#   eval "$(scripts/rgw.sh start)" && npm test && scripts/rgw.sh stop
#
# Needs Debian's Ceph packages: apt-get install ceph-mon ceph-osd radosgw ceph-common
# (no ceph-mgr: nothing here needs it). Two S3 users with fixed keys, the same
# as test/support/rgw.ts: `logjam` (the uploader) and `other` (another owner).
# LOGJAM_RGW_DIR chooses the folder (default $TMPDIR/logjam-rgw).
set -euo pipefail

DIR=${LOGJAM_RGW_DIR:-${TMPDIR:-/tmp}/logjam-rgw}
CONF=$DIR/ceph.conf
USER_KEY=LOGJAMRGWTESTKEY0001
USER_SECRET=logjam-rgw-test-secret-0001
OTHER_KEY=LOGJAMRGWTESTKEY0002
OTHER_SECRET=logjam-rgw-test-secret-0002

die() { echo "rgw.sh: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

alive() { [[ -f $DIR/run/$1.pid ]] && kill -0 "$(cat "$DIR/run/$1.pid")" 2>/dev/null; }

endpoint() { cat "$DIR/endpoint"; }

answering() { [[ -f $DIR/endpoint ]] && curl -s -o /dev/null --max-time 2 "$(endpoint)"; }

print_env() { echo "export LOGJAM_TEST_RGW=$(endpoint)"; }

# Waits up to $2 seconds for the command $1 to succeed.
wait_for() {
  local deadline=$((SECONDS + $2))
  until eval "$1" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out waiting for: $1 (logs in $DIR/log)"
    sleep 0.2
  done
}

stop() {
  local name pid
  for name in client.rgw osd.0 mon.a; do
    if alive "$name"; then
      pid=$(cat "$DIR/run/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR"
}

start() {
  if alive mon.a && alive osd.0 && alive client.rgw && answering; then print_env; return; fi
  stop
  for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph python3 curl; do
    command -v "$tool" >/dev/null || die "$tool not found: apt-get install ceph-mon ceph-osd radosgw ceph-common curl"
  done
  mkdir -p "$DIR"/{run,log,mon,osd}
  local mon_port rgw_port fsid
  mon_port=$(free_port)
  rgw_port=$(free_port)
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public network = 127.0.0.1/32
auth cluster required = none
auth service required = none
auth client required = none
# With auth none, clients must not insist on a secure mon session (radosgw
# hangs at "get_initial_auth_request returned -13" otherwise).
ms mon client mode = crc
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
keyring = /dev/null
osd objectstore = memstore
memstore device bytes = 2147483648
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data = $DIR/mon
osd data = $DIR/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $DIR/rgw
# A deleted object's tail (past its first 4 MiB) waits for RGW's garbage collector, 2 h by
# default: memstore filled up during a bench of 6.7 MB archives, and uploads hung. Collected at once.
rgw gc obj min wait = 0
rgw gc processor period = 10
EOF
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" >/dev/null 2>&1 || die "ceph-mon --mkfs failed"
  ceph-mon -c "$CONF" -i a || die "ceph-mon failed to start (logs in $DIR/log)"
  wait_for "ceph -c '$CONF' --connect-timeout 2 mon stat" 30
  ceph -c "$CONF" osd create >/dev/null
  ceph-osd -c "$CONF" -i 0 --mkfs >/dev/null 2>&1 || die "ceph-osd --mkfs failed (logs in $DIR/log)"
  ceph-osd -c "$CONF" -i 0 >/dev/null 2>&1 || die "ceph-osd failed to start (logs in $DIR/log)"
  wait_for "ceph -c '$CONF' osd stat | grep -q '1 up'" 30
  radosgw -c "$CONF" -n client.rgw || die "radosgw failed to start (logs in $DIR/log)"
  echo "http://127.0.0.1:$rgw_port" >"$DIR/endpoint"
  wait_for answering 60
  radosgw-admin -c "$CONF" user create --uid=logjam --display-name=logjam --access-key="$USER_KEY" --secret="$USER_SECRET" >/dev/null
  radosgw-admin -c "$CONF" user create --uid=other --display-name=other --access-key="$OTHER_KEY" --secret="$OTHER_SECRET" >/dev/null
  print_env
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) alive client.rgw && answering || die "not running: scripts/rgw.sh start"; print_env ;;
  *) die "usage: scripts/rgw.sh start|stop|env" ;;
esac
