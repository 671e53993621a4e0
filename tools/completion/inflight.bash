# bash completion for inflight(8): commands, options, PIDs of Python processes,
# files and report formats.
# The commands and each command's options are read from inflight's own --help
# when asked for, so they are always the ones this inflight has.

# The commands `inflight --help` lists: "  trace     attach to ..." under "Commands:".
_inflight_commands()
{
	"$1" --help 2>/dev/null | awk '/^Commands:/ { on = 1; next }
		on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }'
}

# The options `inflight COMMAND --help` lists under "Options:", one a line, each
# followed by "=" when it takes a value ("  -p, --pid PID", "      --lean",
# "      --stuck-age SECONDS, --config FILE").
_inflight_options()
{
	"$1" "$2" --help 2>/dev/null | awk '/^Options:/ { on = 1; next }
		on && /^$/ { exit }
		on && /^ +-/ {
			# right to left: a short option ("-p,") takes what its long one does
			n = split($0, part, /, /)
			valued = 0
			out = ""
			for (i = n; i >= 1; i--) {
				if (match(part[i], /^ *--?[a-zA-Z][a-zA-Z0-9-]*/) == 0)
					continue
				opt = substr(part[i], RSTART, RLENGTH)
				rest = substr(part[i], RSTART + RLENGTH)
				sub(/^ +/, "", opt)
				if (rest != "")
					valued = rest ~ /^ [A-Za-z]/
				out = opt (valued ? "=" : "") "\n" out
			}
			printf "%s", out
		}'
}

# What -f takes, per command (inflight's own error message for a bad -f lists the same).
_inflight_formats()
{
	case $1 in
	trace) echo "text json openmetrics prometheus" ;;
	trend) echo "text json html" ;;
	*) echo "text json" ;;
	esac
}

# PIDs of the processes running a python executable, by /proc/PID/exe (root sees
# everyone's) or else by the name the process goes by (/proc/PID/comm).
_inflight_python_pids()
{
	local comm name
	{
		find /proc -mindepth 2 -maxdepth 2 -name exe -lname '*/python[0-9.]*' \
			2>/dev/null | cut -d/ -f3
		for comm in /proc/[0-9]*/comm; do
			read -r name 2>/dev/null <"$comm" || continue
			[[ $name == python* ]] && { comm=${comm#/proc/}; echo "${comm%/comm}"; }
		done
	} | sort -nu
}

_inflight()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local exe=${COMP_WORDS[0]} cmd=${COMP_WORDS[1]} opts valued o

	COMPREPLY=()
	# bash splits "--format=js" at the "=" (COMP_WORDBREAKS): --format, =, js
	if [ "$cur" = "=" ]; then
		cur=
	elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 2 ]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	fi
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$(_inflight_commands "$exe") -h --help -V --version" \
			-- "$cur"))
		return
	fi
	opts=$(_inflight_options "$exe" "$cmd")
	for o in $opts; do
		[ "$o" = "$prev=" ] && valued=1
	done
	if [ -n "$valued" ]; then
		case $prev in
		-p | --pid)
			COMPREPLY=($(compgen -W "$(_inflight_python_pids)" -- "$cur")) ;;
		-f | --format)
			COMPREPLY=($(compgen -W "$(_inflight_formats "$cmd")" -- "$cur")) ;;
		-o | --output)
			compopt -o filenames 2>/dev/null
			# sweep writes its snapshot into a directory
			if [ "$cmd" = sweep ]; then
				COMPREPLY=($(compgen -d -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi ;;
		--config | --baseline | --metrics)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur")) ;;
		esac
		# any other value (seconds, a count, a size) is the user's to type
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${opts//=/}" -- "$cur"))
	elif [ "$cmd" = trend ]; then
		# its snapshots, or the directories holding them
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _inflight inflight
