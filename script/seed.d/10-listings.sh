# Sourced by script/seed: demo offers and requests, a few per member, around their homes and sites.
if service_available /v1/categories; then
  for email in "${!MEMBER_TOKEN[@]}"; do
    printf '%s\t%s\n' "${MEMBER_TOKEN[$email]}" "${MEMBER_HOME[$email]}"
  done | "$MAILLON_ROOT/script/seed-listings" "$URL"
  ok "demo offers and requests"
fi
