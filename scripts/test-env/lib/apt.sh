# Sourced by the test-env scripts: apt_install PACKAGE... installs Debian packages without
# recommends, quietly, as root or through sudo, waiting for another apt to finish.
apt_install() {
    local sudo=
    if [ "$(id -u)" -ne 0 ]; then
        sudo=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
}
