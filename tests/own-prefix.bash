# shellcheck shell=bash
# ours NAME PREFIX: whether NAME (a network namespace, a lab directory's name) belongs to the lab
# of PREFIX ("ljnat264-"): it starts with PREFIX itself, or with a sub-lab's prefix a test
# builds from it, PREFIX without its '-' and one letter ("ljnat264x-", see helpers.bash). Not
# another run's: "ljnat26415-" starts with "ljnat264" but is not ours (test.sh's leak check
# tears down what is ours).
ours() {
  local n=$1 p=$2
  [[ $n == "$p"* || $n == "${p%-}"[a-z]-* ]]
}
