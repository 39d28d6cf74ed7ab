#!/usr/bin/env bash
# Runs antsibull-changelog on the collection's changelog sources (changelogs/ at the repository root).
#   scripts/changelog.sh lint                 check the fragments and changelog.yaml
#   scripts/changelog.sh release [--date D]   fold the fragments into a release of the version in
#                                             schemas/collection.json (new modules found by ansible-doc)
#   scripts/changelog.sh generate             re-render changelogs/CHANGELOG.md from changelog.yaml
#   scripts/changelog.sh check                lint, and fail when CHANGELOG.md is not what
#                                             antsibull-changelog renders (hand-edited or stale)
# CHANGELOG_SOURCES=DIR works on another copy of changelogs/ (the tests use it).
# then `npm run generate` copies changelog.yaml and CHANGELOG.md into the collection. The staged
# collection is the committed one: run `npm run generate` first when the schema changed.
#
# changelogs/fragments/*.yml are written by hand (one per change, antsibull-changelog's format);
# changelogs/changelog.yaml and changelogs/CHANGELOG.md are written only by this script. The
# collection tree is generator output, so antsibull-changelog runs on a staged copy of it (its
# galaxy.yml, generated changelogs/config.yaml and modules) with the sources laid over it.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: $0 lint|check|release|generate [antsibull-changelog options]"
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
bash scripts/setup-venv.sh
venv=$PWD/.venv/bin
src=${CHANGELOG_SOURCES:-$PWD/changelogs}
collection=$(ls -d "$PWD"/collection/ansible_collections/*/*)
work=$(mktemp -d "${TMPDIR:-/tmp}/vfs-changelog-XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/ansible_collections/${collection#"$PWD"/collection/ansible_collections/}
mkdir -p "$(dirname "$stage")" "$src/fragments"
cp -r "$collection" "$stage"
rm -rf "$stage/changelogs/fragments" "$stage/changelogs/changelog.yaml"
cp -r "$src/fragments" "$stage/changelogs/fragments"
[ ! -f "$src/changelog.yaml" ] || cp "$src/changelog.yaml" "$stage/changelogs/changelog.yaml"

lint() {
  (cd "$stage" && "$venv/antsibull-changelog" lint)
  [ ! -f "$stage/changelogs/changelog.yaml" ] ||
    (cd "$stage" && "$venv/antsibull-changelog" lint-changelog-yaml changelogs/changelog.yaml)
}

command=$1
shift
case "$command" in
  lint) lint ;;
  check)
    lint
    (cd "$stage" && "$venv/antsibull-changelog" generate)
    if ! diff -u "$src/CHANGELOG.md" "$stage/CHANGELOG.md"; then
      echo "[changelog] $src/CHANGELOG.md is not what antsibull-changelog renders: run $0 generate" >&2
      exit 1
    fi
    ;;
  release | generate)
    (cd "$stage" && ANSIBLE_COLLECTIONS_PATH="$work" PATH="$venv:$PATH" \
      "$venv/antsibull-changelog" "$command" "$@")
    cp "$stage/changelogs/changelog.yaml" "$src/changelog.yaml"
    cp "$stage/CHANGELOG.md" "$src/CHANGELOG.md"
    # release removes the fragments it folded in (keep_fragments: false): so do the sources.
    for f in "$src"/fragments/*; do
      [ -e "$f" ] || continue
      [ -e "$stage/changelogs/fragments/$(basename "$f")" ] || rm "$f"
    done
    ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
