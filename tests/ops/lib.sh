# shellcheck shell=bash
# Shared by the operations tests (restore_drill, upgrade_side_by_side): assertions, calls through
# the gateway ($GATEWAY) as the members of one community, and the end-state checks on the
# database ($URL) and the streams ($PREFIX on $MAILLON_TEST_REDIS_URL). Sourced after lib.sh.

CHECKS=0 FAILURES=0

# fresh_database SERVER_URL NAME: an empty database NAME owned by maillon (dropped first).
fresh_database() {
  psql -X -q "$1/postgres" -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2 OWNER maillon"
}
check() {  # check DESCRIPTION COMMAND...: one assertion, counted.
  local what="$1"
  shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then ok "$what"; else warn "FAILED: $what"; FAILURES=$((FAILURES + 1)); fi
}

# api METHOD PATH TOKEN [BODY]: sets STATUS and BODY (the answer's).
api() {
  local out
  out="$(curl -sS -X "$1" "$GATEWAY$2" -H 'Content-Type: application/json' \
    ${3:+-H "Authorization: Bearer $3"} ${4:+--data "$4"} -w '\n%{http_code}')"
  STATUS="${out##*$'\n'}"
  BODY="${out%$'\n'*}"
}
field() { jq -r "$1" <<<"$BODY"; }

# until_true SECONDS COMMAND...: runs COMMAND until it succeeds, false when SECONDS passed first.
# The one poll of the shell tests, for what nobody signals (an answer that changes, a file that
# comes): the pauses between tries double from 10 ms up to UNTIL_PAUSE_MS (200 by default).
until_true() {
  local deadline=$((SECONDS + $1)) pause_ms=10 longest_ms="${UNTIL_PAUSE_MS:-200}"
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep "$((pause_ms / 1000)).$(printf '%03d' $((pause_ms % 1000)))"
    pause_ms=$((pause_ms * 2 < longest_ms ? pause_ms * 2 : longest_ms))
  done
}

register() {  # register NAME: sets the variables NAME_id and NAME_token.
  local body
  body="$(jq -cn --arg e "$1.$RANDOM$RANDOM@drill.maillon.test" --arg n "$1" --arg c "$COMMUNITY" \
    --arg s "$SITE" '{email: $e, password: "mot-de-passe-1", display_name: $n, community_id: $c,
      home_site_id: $s}')"
  api POST /v1/auth/register "$ADMIN" "$body"
  [[ "$STATUS" == 201 ]] || { warn "register $1: $STATUS $BODY"; return 1; }
  printf -v "$1_id" '%s' "$(field .member.id)"
  printf -v "$1_token" '%s' "$(field .token)"
  printf -v "$1_email" '%s' "$(jq -r .member.email <<<"$BODY")"
}

balance() {  # balance NAME: the member's balance_minutes
  local id="$1_id" token="$1_token"
  api GET "/v1/ledger/accounts/${!id}" "${!token}"
  [[ "$STATUS" == 200 ]] && field .balance_minutes
}
balance_is() { [[ "$(balance "$1")" == "$2" ]]; }

offer() {  # offer NAME MINUTES: prints the new offer's id
  local token="$1_token"
  api POST /v1/offers "${!token}" "$(jq -cn --argjson m "$2" '{kind: "service", mode: "service",
    category: "aide-aux-devoirs", title: "Aide aux devoirs", duration_minutes: 60,
    price_minutes: $m, location: {lat: 50.63, lon: 3.07}}')"
  [[ "$STATUS" == 201 ]] || { warn "offer: $STATUS $BODY" ; return 1; }
  field .id
}

propose() {  # propose NAME OFFER: the exchange's id, once the exchange service knows the offer
  PROPOSE_TOKEN="$1_token" PROPOSE_OFFER="$2"
  until_true 20 proposed || { warn "propose: $STATUS $BODY"; return 1; }
  field .id
}

proposed() {
  api POST /v1/exchanges "${!PROPOSE_TOKEN}" "{\"offer_id\": \"$PROPOSE_OFFER\"}"
  [[ "$STATUS" == 201 ]]
}

state_is() {  # state_is NAME EXCHANGE STATE
  local token="$1_token"
  api GET "/v1/exchanges/$2" "${!token}"
  [[ "$STATUS" == 200 && "$(field .state)" == "$3" ]]
}

act() {  # act NAME EXCHANGE ACTION EXPECTED_STATUS
  local token="$1_token"
  api POST "/v1/exchanges/$2/$3" "${!token}" '{}'
  [[ "$STATUS" == "$4" ]] || { warn "$3 $2: $STATUS $BODY"; return 1; }
}

transfer() {  # transfer FROM TO MINUTES ID
  local token="$1_token" to="$2_id"
  api POST /v1/ledger/transfers "${!token}" \
    "$(jq -cn --arg id "$4" --arg to "${!to}" --argjson m "$3" '{id: $id, to_member_id: $to, minutes: $m}')"
  [[ "$STATUS" == 201 ]] || { warn "transfer $4: $STATUS $BODY"; return 1; }
}

# A whole exchange: PROVIDER offers, RECEIVER proposes, accepted, both confirm, completed.
full_exchange() {
  local o x
  o="$(offer "$1" "$3")" && x="$(propose "$2" "$o")" && act "$1" "$x" accept 202 &&
    until_true 20 state_is "$1" "$x" accepted && act "$1" "$x" complete 200 &&
    act "$2" "$x" complete 200 && until_true 20 state_is "$1" "$x" completed && echo "$x"
}

audit_is_zero() {
  api GET "/v1/ledger/audit?community_id=$COMMUNITY" "$ADMIN"
  [[ "$STATUS" == 200 && "$(field .sum_balances_minutes)" == 0 &&
    "$(field '.violations | length')" == 0 && "$(field .pending_minutes)" == 0 ]]
}

nothing_unpublished() {
  local schema n=0
  for schema in $(psql -X "$URL" -Atc "SELECT table_schema FROM information_schema.tables
      WHERE table_name = 'outbox'"); do
    n=$((n + $(psql -X "$URL" -Atc "SELECT count(*) FROM \"$schema\".outbox WHERE published_at IS NULL")))
  done
  ((n == 0))
}

no_dead_letter() {
  local key found=1
  while read -r key; do
    [[ -n "$key" ]] || continue
    found=0
    warn "dead letters in $key: $(redis-cli -u "$MAILLON_TEST_REDIS_URL" XRANGE "$key" - + COUNT 1 |
      tr '\n' ' ' | cut -c1-400)"
  done < <(redis-cli -u "$MAILLON_TEST_REDIS_URL" --scan --pattern "$PREFIX:*.dead")
  return $((1 - found))
}

# setup_community: logs the administrator in (ADMIN) and opens a community (COMMUNITY) with one
# site (SITE): signup bonus 120, nobody may go below 0.
setup_community() {
  api POST /v1/auth/login '' "$(jq -cn --arg e "$MAILLON_TEST_ADMIN_EMAIL" \
    --arg p "$MAILLON_TEST_ADMIN_PASSWORD" '{email: $e, password: $p}')"
  ADMIN="$(field .token)"
  api POST /v1/communities "$ADMIN" \
    "{\"name\": \"Exercice $RANDOM\", \"policy\": {\"min_balance\": 0, \"signup_bonus\": 120, \"monthly_allowance\": 0}}"
  COMMUNITY="$(field .id)"
  api POST /v1/sites "$ADMIN" "$(jq -cn --arg c "$COMMUNITY" '{community_id: $c, name: "Lieu",
    kind: "tiers_lieu", location: {lat: 50.63, lon: 3.09}, address: "Lille"}')"
  SITE="$(field .id)"
  [[ -n "$ADMIN" && "$COMMUNITY" != null && "$SITE" != null ]]
}

# report: the closing line, and the status.
report() {
  printf '%d passed, %d failed\n' $((CHECKS - FAILURES)) "$FAILURES"
  ((FAILURES == 0))
}
