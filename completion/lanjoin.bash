# bash completion for lanjoin(8)                               -*- shell-script -*-
#
# Completes commands, ways, subcommands, the options of each command and way (keep these lists
# in step with `lanjoin help CMD [SUB]`: tests/integration/docs.bats checks it), and values:
# containers (from docker/podman, if installed), netns:NAME (ip netns), pid:, bridges, links.
# Self-contained: works with or without the bash-completion package.

# Options of every way of attach, the addressing ones of bridge/ovs/macvlan, and each way's own
# (routed takes --ip and --no-default-route of the addressing ones).
_lanjoin_attach_every='--no-conflict-check --ifname --mac --mac-from --mtu --route --dry-run
	--json --engine-socket --persist --replace --help'
_lanjoin_attach_l2='--ip --gateway --onlink --no-default-route --dhcp --dhcp6 --dhcp-client --dhcp-timeout
	--slaac'
_lanjoin_attach_bridge='--bridge --uplink --create-bridge'
_lanjoin_attach_ovs='--bridge --create-bridge --vlan --ovsdb'
_lanjoin_attach_macvlan='--parent --mode --host-shim --force'
_lanjoin_attach_nat='--uplink --address --publish --private --to'
_lanjoin_attach_routed='--parent --ip --no-default-route'

# Options that take a value (the next word, or after '=').
_lanjoin_with_value=' --bridge --uplink --vlan --ovsdb --parent --mode --host-shim --address '
_lanjoin_with_value+='--publish --private --to --ip --gateway --dhcp-client --dhcp-timeout '
_lanjoin_with_value+='--ifname --mac --mac-from --mtu --route --engine-socket --probe --timeout '
_lanjoin_with_value+='--socket --state-dir '

_lanjoin_links() {
	local d
	for d in /sys/class/net/*; do
		[[ -e $d ]] && printf '%s\n' "${d##*/}"
	done
}

_lanjoin_bridges() { # Linux bridges, and OVS bridges if ovs-vsctl answers at once
	local d
	for d in /sys/class/net/*/bridge; do
		[[ -d $d ]] && d=${d%/bridge} && printf '%s\n' "${d##*/}"
	done
	if [[ ${1:-} == ovs ]] && type -P ovs-vsctl >/dev/null; then
		timeout 1 ovs-vsctl --timeout=1 list-br 2>/dev/null
	fi
}

_lanjoin_netns() {
	local n
	if type -P ip >/dev/null; then
		ip netns list 2>/dev/null | while read -r n _; do printf 'netns:%s\n' "$n"; done
	else
		for n in /run/netns/*; do
			[[ -e $n ]] && printf 'netns:%s\n' "${n##*/}"
		done
	fi
}

# Running containers of the engines that are installed (quietly: no daemon, no names).
_lanjoin_containers() {
	local e
	for e in docker podman; do
		type -P "$e" >/dev/null || continue
		timeout 2 "$e" ps --format '{{.Names}}' 2>/dev/null
	done
}

_lanjoin_targets() {
	_lanjoin_containers
	_lanjoin_netns
	echo pid:
}

# What lanjoin has attached (TARGET column of `lanjoin list`; nothing without root). Only if
# the state directory exists: `list` would create it.
_lanjoin_attached() {
	[[ -d ${LANJOIN_STATE_DIR:-/run/lanjoin} ]] || return 0
	lanjoin list 2>/dev/null | awk 'NR == 1 && $1 != "TARGET" {exit} NR > 1 {print $1}'
}

# The options of a command context: "attach bridge", "detach", "uplink adopt", ...
_lanjoin_options() {
	case $1 in
	"attach bridge" | "attach ovs" | "attach macvlan")
		local v=_lanjoin_attach_${1#attach }
		echo "${!v} $_lanjoin_attach_l2 $_lanjoin_attach_every"
		;;
	"attach nat") echo "$_lanjoin_attach_nat $_lanjoin_attach_every" ;;
	"attach routed") echo "$_lanjoin_attach_routed $_lanjoin_attach_every" ;;
	attach*) echo "--help" ;;
	detach) echo "--ifname --all --include-cni --keep-spec --dry-run --json --engine-socket --help" ;;
	list) echo "--json --help" ;;
	status | reconcile) echo "--json --engine-socket --help" ;;
	apply) echo "--engine-socket --help" ;;
	watch) echo "--engine-socket --no-engines --help" ;;
	gc | pid) echo "--json --engine-socket --help" ;;
	ip) echo "--json --engine-socket --help" ;;
	"uplink adopt") echo "--ovs --ovsdb --probe --no-probe --timeout --dry-run --json --help" ;;
	"uplink release") echo "--force --dry-run --json --help" ;;
	"uplink list") echo "--json --help" ;;
	"shim add") echo "--ip --json --help" ;;
	"shim del") echo "--json --help" ;;
	docker-plugin) echo "--socket --state-dir --help" ;;
	uplink* | shim* | version | help*) echo "--help" ;;
	"") echo "--help --version" ;;
	esac
}

# Candidates for the value of option $1 in context $2.
_lanjoin_values() {
	case $1 in
	--bridge) _lanjoin_bridges "${2#attach }" ;;
	--uplink | --parent) _lanjoin_links ;;
	--mode) printf '%s\n' bridge vepa private passthru ;;
	--dhcp-client) printf '%s\n' udhcpc dhclient dhcpcd ;;
	--to) echo docker ;;
	--publish) printf '%s\n' tcp/ udp/ ;;
	--ovsdb) echo unix:/var/run/openvswitch/db.sock ;;
	--engine-socket) compgen -f -- "$3" ;;
	esac
}

_lanjoin() {
	local line=${COMP_LINE:0:COMP_POINT} cur='' words=() w i ctx='' npos=0 prev='' cands=''
	# Words from the line itself: COMP_WORDS splits netns:NAME and --opt=VALUE apart.
	read -r -a words <<<"$line"
	if [[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]]; then
		words+=('')
	fi
	cur=${words[${#words[@]} - 1]}

	# The context (command and way/subcommand) and how many positional words came after it.
	local cmd='' sub='' skip=0
	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		w=${words[i]}
		if ((skip)); then
			skip=0
			continue
		fi
		if [[ $w == --*=* ]]; then
			continue
		elif [[ $w == -* ]]; then
			[[ $_lanjoin_with_value == *" $w "* ]] && skip=1
			continue
		fi
		if [[ -z $cmd ]]; then
			cmd=$w
		elif [[ -z $sub && $cmd =~ ^(attach|uplink|shim|help)$ ]]; then
			sub=$w
		else
			npos=$((npos + 1))
		fi
	done
	ctx=$cmd${sub:+ $sub}
	((${#words[@]} >= 2)) && prev=${words[${#words[@]} - 2]}

	if [[ $cur == --*=* ]]; then # --opt=VALUE
		local opt=${cur%%=*}
		cands=$(_lanjoin_values "$opt" "$ctx" "${cur#*=}" | sed "s|^|$opt=|")
	elif ((skip)) && [[ $prev == -* ]]; then # the value of the option before
		cands=$(_lanjoin_values "$prev" "$ctx" "$cur")
	elif [[ $cur == -* ]]; then
		cands=$(_lanjoin_options "$ctx")
	elif [[ -z $cmd ]]; then
		cands='attach detach list status reconcile apply watch gc pid ip uplink shim docker-plugin
			version help'
	elif [[ -z $sub && $cmd == attach ]]; then
		cands='bridge ovs macvlan nat routed'
	elif [[ -z $sub && $cmd == uplink ]]; then
		cands='adopt release list'
	elif [[ -z $sub && $cmd == shim ]]; then
		cands='add del'
	elif [[ -z $sub && $cmd == help ]]; then
		cands='attach detach list status reconcile apply watch gc pid ip uplink shim docker-plugin
			version'
	elif ((npos == 0)); then
		case $ctx in
		"help attach") cands='bridge ovs macvlan nat routed' ;;
		"help uplink") cands='adopt release list' ;;
		"help shim") cands='add del' ;;
		attach\ *) cands=$(_lanjoin_targets) ;;
		detach) cands=$({ _lanjoin_attached; _lanjoin_targets; } | sort -u) ;;
		status | reconcile) cands=$(_lanjoin_attached) ;;
		apply) cands=$(compgen -f -- "$cur") ;;
		pid) cands=$(_lanjoin_containers; echo pid:) ;;
		ip) cands=$(_lanjoin_containers) ;;
		"uplink release") cands=$(_lanjoin_bridges ovs) ;;
		"shim add" | "shim del") cands=$(_lanjoin_links) ;;
		esac
	elif ((npos == 1)) && [[ $ctx == "uplink adopt" ]]; then
		cands=$(_lanjoin_links)
	fi

	# shellcheck disable=SC2207 # candidates are words without blanks
	COMPREPLY=($(compgen -W "$cands" -- "$cur"))
	# bash replaces only the part of the word after its last ':' or '=' (COMP_WORDBREAKS).
	local breaks=${COMP_WORDBREAKS//[^:=]/} pre
	if [[ -n $breaks && $cur == *["$breaks"]* ]]; then
		pre=${cur%"${cur##*["$breaks"]}"}
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$pre"}
		done
	fi
	# pid:, netns:, tcp/, --opt= and unix: want more after them.
	if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *[:/=] ]]; then
		compopt -o nospace 2>/dev/null
	fi
	return 0
}

complete -F _lanjoin lanjoin
