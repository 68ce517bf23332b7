# Shared by the scripts: installing what they need, once.

# Installs the Debian packages that are missing.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "kist needs a Rust toolchain (cargo 1.85 or later); install it with rustup" >&2
    exit 1
  fi
}

# Builds the release binary, statically linked: no dynamic loader at start, which is most of a
# short command's fixed cost (bench/ measured 8.7 ms -> 7.5 ms for `run --rm busybox true`).
# Prints the binary's path. An explicit --target keeps proc-macros (built for the host) dynamic.
build_release() {
  local host
  host=$(rustc -vV | sed -n 's/^host: //p')
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked -q --target "$host" >&2
  echo "$PWD/target/$host/release/kist"
}

# A cgroup parent for kist below this shell's own cgroups (relative, so resolved per
# hierarchy under the caller's cgroup): hosts that manage their processes' cgroups forbid
# moving them out. Prints the name; remove_cgroup_parent NAME removes it (empty) afterwards.
make_cgroup_parent() {
  echo "kist-$1-$$"
}

remove_cgroup_parent() {
  local name=$1 hier path mount
  while IFS=: read -r _ hier path; do
    # mountinfo: the filesystem type and its options follow " - ".
    mount=$(awk -F' - ' -v h="$hier" '{
      split($1, a, " "); split($2, b, " ");
      if (h == "" && b[1] == "cgroup2") { print a[5]; exit }
      if (h != "" && b[1] == "cgroup" && ("," b[3] ",") ~ ("," h ",")) { print a[5]; exit }
    }' /proc/self/mountinfo)
    [ -n "$mount" ] && [ -d "$mount$path/$name" ] && rmdir "$mount$path/$name" 2>/dev/null
  done < /proc/self/cgroup
  true
}
