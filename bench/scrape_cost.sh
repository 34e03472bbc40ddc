#!/usr/bin/env bash
# Benchmark (not a test): how long /metrics takes on a station with a year
# of history. Seeds a copy of the sample station with 192,720 as-run rows
# (a play every 3 minutes for a year, plus a busier month) and 2,000 closed
# outages, starts the release binary on it (--output null) and times 25
# scrapes with curl. Target: under 50 ms.
#   ./bench/scrape_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/${CARGO_TARGET_DIR:-target}/release/cunxiang"
work=$(mktemp -d)
port=$((18000 + RANDOM % 1000))
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cp -r schedules audio cunxiang.toml "$work/"
cd "$work"
# A first run makes the database.
timeout 5 "$bin" --station . run --output null --listen "127.0.0.1:$port" >/dev/null 2>&1 || true
sqlite3 var/cunxiang.db "
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 175200)
INSERT OR IGNORE INTO plays (broadcast, scheduled_at, started_at, ended_at, status, trigger, priority, files)
SELECT '广播' || (i % 9), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-365 days', '+' || (i*3) || ' minutes'),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-365 days', '+' || (i*3) || ' minutes'), NULL,
       CASE WHEN i % 50 = 0 THEN 'missed' ELSE 'played' END, 'schedule', 'normal', '[\"a.mp3\"]' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 17520)
INSERT OR IGNORE INTO plays (broadcast, scheduled_at, started_at, ended_at, status, trigger, priority, files)
SELECT '节目' || (i % 7), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-365 days', '+' || (i*30) || ' minutes'),
       NULL, NULL, 'played', 'schedule', 'normal', '[\"a.mp3\"]' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000)
INSERT INTO outages (kind, subject, started_at, ended_at, detail)
SELECT CASE i%3 WHEN 0 THEN 'power' WHEN 1 THEN 'output' ELSE 'content' END, 's'||i,
       strftime('%Y-%m-%dT%H:%M:%fZ','now','-365 days','+' || (i*240) || ' minutes'),
       strftime('%Y-%m-%dT%H:%M:%fZ','now','-365 days','+' || (i*240+30) || ' minutes'), 'x' FROM n;"
rows=$(sqlite3 var/cunxiang.db "SELECT count(*) FROM plays")
"$bin" --station . run --output null --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break; sleep 0.2; done
for _ in $(seq 25); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/metrics"; done |
  sort -n | awk -v rows="$rows" '{a[NR]=$1*1000} END {printf "/metrics with %d as-run rows: median %.1f ms, max %.1f ms of %d scrapes (target < 50 ms)\n", rows, a[int(NR/2)+1], a[NR], NR}'
