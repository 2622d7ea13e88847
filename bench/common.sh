# Sourced by the benchmark scripts: ports, and what a live process used.

# A free TCP port on 127.0.0.1.
port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Wait up to 10 s for something to listen on port $1.
wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# CPU seconds (user + system) and peak RSS in KiB of a live process.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}
hwm_of() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}
