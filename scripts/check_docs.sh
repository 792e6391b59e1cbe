#!/usr/bin/env bash
# Checks that the docs say what is so: every repository path quoted in
# README.md, ARCHITECTURE.md, tests/README.md, bench/README.md and docs/*.md
# exists, and every mini option they show appears in `mini --help`.
#   scripts/check_docs.sh [MINI_BINARY]     (default build/mini)
# Prints each problem with its file and line; exits 1 if there was any.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mini=${1:-build/mini}
help=$("$mini" --help)
docs=(README.md ARCHITECTURE.md tests/README.md bench/README.md docs/*.md)
problems=0

complain() {
  echo "$1:$2: $3"
  problems=$((problems + 1))
}

# Paths: `quoted` or linked](like/this), starting with a folder of the
# repository or naming a top-level .md file. Build outputs (build*/), and
# patterns or placeholders (*, <>, NAME, X, ...) are not checked.
check_path() {
  local file=$1 line=$2 p=$3
  p=${p%%[:,)]*}
  p=${p%%\#*}
  case $p in
    *'*'* | *'<'* | *'{'* | *NAME* | *FILE* | *...* | build*/* | */X/* | *'$'*) return ;;
  esac
  [[ -e $p ]] || complain "$file" "$line" "no such path: $p"
}

# Options: a --long option (its name, up to '=') or a short -X letter must
# be in the help text.
check_option() {
  local file=$1 line=$2 o=${3%%=*}
  [[ $o == -- || $o == - ]] && return
  grep -qe "$o" <<<"$help" || complain "$file" "$line" "mini --help does not mention $o"
}

for f in "${docs[@]}"; do
  n=0
  while IFS= read -r text; do
    n=$((n + 1))
    # Quoted and linked paths.
    rest=$text
    while [[ $rest =~ (\`|\]\()((grammar|vm|runtime|stdlib|scripts|docs|tests|bench|\.ci)/[^\`\ \)]*|[A-Z]+\.md)([\`\ \)]) ]]; do
      check_path "$f" "$n" "${BASH_REMATCH[2]}"
      rest=${rest#*"${BASH_REMATCH[0]}"}
    done
    # mini's options: the words after `mini` in a command, and the first
    # cell of an options table row ("| `--gil=on`, `--gil=off` | ...").
    rest=$text
    while [[ $rest =~ (^|[\`/ ])mini\ +(-[^\`]*) ]]; do
      for w in ${BASH_REMATCH[2]%%#*}; do
        [[ $w == -* ]] || break
        check_option "$f" "$n" "$w"
      done
      rest=${rest#*"${BASH_REMATCH[0]}"}
    done
    if [[ $text =~ ^\|\ \`-([^|]*)\| ]]; then
      for w in $(grep -oE '`-[^` ]+' <<<"${BASH_REMATCH[0]}" | tr -d '`'); do
        check_option "$f" "$n" "$w"
      done
    fi
  done <"$f"
done

if ((problems)); then
  echo "check_docs: $problems problem(s)"
  exit 1
fi
echo "check_docs: the paths and options quoted in ${#docs[@]} documents exist"
