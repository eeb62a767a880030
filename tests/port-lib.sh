# tests/port-lib.sh - a free loopback TCP port for a test's server.  Sourced.
#
#   free_port [TAKEN...]   prints a port no server listens on and none of TAKEN
#
# Picked below the kernel's ephemeral range (ip_local_port_range: 32768.. on
# Debian), so that no outgoing connection takes it between the probe and the
# server's bind: a port picked inside it once failed Postfix's start with
# "bind 127.0.0.1 port 36112: Address already in use" after a load run.

port_open() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

free_port() {
    _lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    case "$_lo" in ''|*[!0-9]*) _lo=32768 ;; esac
    [ "$_lo" -gt 12000 ] || _lo=32768      # a range from low down: stay under Debian's
    _p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % (_lo - 10000) + 10000 ))
    while port_open "$_p" || case " $* " in *" $_p "*) true ;; *) false ;; esac; do
        _p=$((_p + 1))
        [ "$_p" -lt "$_lo" ] || _p=10000
    done
    echo "$_p"
}
