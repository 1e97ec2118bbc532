# What the launchers settle before Deno starts, because Deno refuses these itself, with its own usage text
# and a stack backtrace, before any of dmabuf runs. Sourced by cli/dmabuf; put into the board bundle's
# bin/dmabuf by cli/dist/build.ts. Needs $deno (the runtime). Builtins only, unless an argument has bytes
# outside printable ASCII.

# Deno takes only UTF-8 arguments. An argument with other bytes is checked with iconv (or Deno itself where
# there is no iconv, as on busybox boards); one that is not UTF-8 is a usage error, as dmabuf would say it.
dmabuf_arg_number=0
dmabuf_after=
for dmabuf_arg do
  dmabuf_arg_number=$((dmabuf_arg_number + 1))
  case $dmabuf_arg in
    *[![:print:][:space:]]*)
      if command -v iconv >/dev/null 2>&1; then
        printf '%s' "$dmabuf_arg" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1
      else
        printf '%s' "$dmabuf_arg" | "$deno" eval --quiet --no-config \
          'new TextDecoder("utf-8", { fatal: true }).decode(await new Response(Deno.stdin.readable).arrayBuffer())' \
          >/dev/null 2>&1
      fi || {
        echo "dmabuf: argument $dmabuf_arg_number$dmabuf_after is not valid UTF-8: Deno takes only UTF-8 arguments (a file of such a name: rename it, or give it on stdin, stat --input - < FILE)" >&2
        exit 2
      }
      ;;
    -*) dmabuf_after=" (after $dmabuf_arg)" && continue ;;
  esac
  dmabuf_after=
done

# A working directory that was deleted: Deno cannot start in it ("could not read current working
# directory"). The shell has no path for it then ($PWD is empty or names what is gone). Deno starts in /
# instead, and DMABUF_CWD_GONE=1 makes dmabuf refuse relative paths, which would now mean paths under /.
if [ ! -d "${PWD:-/nonexistent}" ]; then
  cd / || exit 1
  export DMABUF_CWD_GONE=1
fi

# Deno keeps V8's code cache in $DENO_DIR, else $XDG_CACHE_HOME/deno, else $HOME/.cache/deno, making the
# directories it needs: as root, HOME=/nonexistent would make /nonexistent. Where HOME is set but is no
# directory, there is no cache (DENO_DIR=/dev/null/deno cannot be created, so Deno keeps it in memory).
if [ -z "${DENO_DIR-}" ] && [ -n "${HOME-}" ] && [ ! -d "$HOME" ]; then
  case ${XDG_CACHE_HOME-} in
    /*) ;;
    *) export DENO_DIR=/dev/null/deno ;;
  esac
fi
