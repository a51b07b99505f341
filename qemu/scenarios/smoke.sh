# Smoke scenario: the guest's tools run and it reaches the host. HOST_PORT is a TCP listener
# on the host's loopback that sends TOKEN and closes.
if grep -q '^nvme_tcp ' /proc/modules && grep -q '^nvmet_tcp ' /proc/modules; then
	ok modules
else
	fail modules "nvme_tcp or nvmet_tcp not loaded"
fi

if run net 10 nc 10.0.2.2 "$HOST_PORT" && has net "$TOKEN"; then
	ok net
else
	fail net "no token from 10.0.2.2:$HOST_PORT"
fi

step nvme-cli 10 nvme version
step fio-uring 60 fio --name=uring --filename=/tmp/fio.dat --size=4M --bs=64k \
	--ioengine=io_uring --iodepth=4 --rw=write --verify=crc32c --verify_fatal=1
echo "@@ end"
