#!/usr/bin/env bash
# Silo memory with many issued coupons: issues N coupons (default 1,000,000) through the API on a
# running silo, redeems a sample of them, optionally looks up another sample (each lookup keeps a coupon
# grain active for two idle minutes), and prints the silo's resident memory at each step.
#   loadtests/memory.sh <silo-url> <admin-key> <silo-pid> [coupons] [redemptions] [lookups]
set -euo pipefail
url="$1"; key="$2"; pid="$3"; total="${4:-1000000}"; redeem="${5:-20000}"; lookups="${6:-0}"
# Resident memory, the managed heap after the last collection, and coupon grain activations (from /metrics).
rss() {
  local metrics; metrics=$(curl -fsS "$url/metrics" || true)
  awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$pid/status"
  printf ', managed heap %s MiB' "$(awk '/^dotnet_gc_last_collection_heap_size_bytes/ {s += $NF} END {printf "%.0f", s / 1048576}' <<<"$metrics")"
  printf ', coupon activations %s' "$(awk '/^orleans_catalog_activations\{.*grain_type="coupon"/ {n = $NF} END {print n + 0}' <<<"$metrics")"
}
api() { curl -fsS -H "X-Api-Key: $key" -H 'Content-Type: application/json' "$@"; }
# One curl process, many parallel requests (a process per request would measure fork, not the silo):
# sends every request of a curl config file and counts the answers by status, curl exit code and message. A status
# of 000 is an answer that never came, and curl says why (in its parallel mode one aborted transfer aborts the others
# in flight beside it).
send_all() { curl -s --no-progress-meter --parallel --parallel-max 32 -K "$1" 2>/dev/null | sort | uniq -c | sed 's/^/  HTTP status count: /' || true; }
echo "silo RSS at start: $(rss)"
campaign=$(api -X POST "$url/api/v1/campaigns" -d '{"name":"memory","kind":"dealer_promo","currency":"INR","budget":1000000000000,
  "validFrom":"2026-01-01T00:00:00","validUntil":"2030-01-01T00:00:00","timeZone":"UTC","discount":{"type":"fixed","amount":100}}' \
  | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
api -X POST "$url/api/v1/campaigns/$campaign/submit" >/dev/null
# Separation of duties: a finance key, not the creator's, approves.
finance=$(api -X POST "$url/api/v1/api-keys" -d '{"name":"memory finance","role":"finance"}' | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
curl -fsS -H "X-Api-Key: $finance" -X POST "$url/api/v1/campaigns/$campaign/approve" >/dev/null
api -X PUT "$url/api/v1/dealers/MEM-1" -d '{"name":"memory dealer","channelTier":"dealer"}' >/dev/null
codes=$(mktemp)
start=$(date +%s)
for _ in $(seq 1 $((total / 100000))); do
  api -X POST "$url/api/v1/campaigns/$campaign/coupons" -d '{"count":100000}' | grep -o '"[2-9A-Z]\{4\}-[2-9A-Z]\{4\}-[2-9A-Z]\{4\}"' | tr -d '"' >>"$codes"
done
echo "issued $(wc -l <"$codes") coupons in $(( $(date +%s) - start )) s; silo RSS: $(rss)"
shuf -n "$redeem" "$codes" | while read -r code; do
  printf 'url = "%s/api/v1/redemptions"\nheader = "X-Api-Key: %s"\nheader = "Content-Type: application/json"\n' "$url" "$key"
  printf 'header = "Idempotency-Key: mem-%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{exitcode} %%{errormsg}\\n"\n' "$code"
  printf 'data = "{\\"code\\":\\"%s\\",\\"dealerId\\":\\"MEM-1\\",\\"orderId\\":\\"SO-%s\\",\\"lines\\":[{\\"sku\\":\\"X\\",\\"quantity\\":1,\\"unitPrice\\":10000}]}"\nnext\n' "$code" "$code"
done >"$codes.curl"
send_all "$codes.curl"
used=$(api "$url/api/v1/campaigns/$campaign" | sed -n 's/.*"redemptionCount":\([0-9]*\).*/\1/p')
echo "redeemed $used of a sample of $redeem codes; silo RSS: $(rss)"
if [[ "$lookups" -gt 0 ]]; then
  start=$(date +%s)
  shuf -n "$lookups" "$codes" | while read -r code; do
    printf 'url = "%s/api/v1/coupons/%s"\nheader = "X-Api-Key: %s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{exitcode} %%{errormsg}\\n"\nnext\n' "$url" "$code" "$key"
  done >"$codes.curl"
  send_all "$codes.curl"
  echo "looked up $lookups codes in $(( $(date +%s) - start )) s; silo RSS: $(rss)"
fi
rm -f "$codes" "$codes.curl"
