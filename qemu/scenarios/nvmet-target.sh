# Prologue of the reference run: the kernel's own NVMe/TCP target (nvmet) inside the guest on
# 127.0.0.1, over a 64 MiB file in tmpfs, so kernel-interop.sh can be checked against a target
# known to be right. Sets the variables kernel-interop.sh reads.
export TARGET_KIND=nvmet TARGET_ADDR=127.0.0.1 NVM_PORT=4420 DISC_PORT=4420
export NQN=${NQN:-nqn.2026-11.dev.insitu:reference}
export EXPECT_MODEL=${EXPECT_MODEL:-insitu reference} EXPECT_SERIAL=${EXPECT_SERIAL:-REF0001}

nvmet_setup() {
	local cfg=/sys/kernel/config/nvmet sub
	sub=$cfg/subsystems/$NQN
	truncate -s 64M /tmp/reference.img &&
	mkdir "$sub" &&
	echo 1 >"$sub/attr_allow_any_host" &&
	echo "$EXPECT_MODEL" >"$sub/attr_model" &&
	echo "$EXPECT_SERIAL" >"$sub/attr_serial" &&
	mkdir "$sub/namespaces/1" &&
	echo /tmp/reference.img >"$sub/namespaces/1/device_path" &&
	echo 1 >"$sub/namespaces/1/buffered_io" &&   # tmpfs has no O_DIRECT
	echo 1 >"$sub/namespaces/1/enable" &&
	mkdir "$cfg/ports/1" &&
	echo tcp >"$cfg/ports/1/addr_trtype" &&
	echo ipv4 >"$cfg/ports/1/addr_adrfam" &&
	echo "$TARGET_ADDR" >"$cfg/ports/1/addr_traddr" &&
	echo "$NVM_PORT" >"$cfg/ports/1/addr_trsvcid" &&
	ln -s "$sub" "$cfg/ports/1/subsystems/"
}
if nvmet_setup; then
	ok nvmet-setup
else
	fail nvmet-setup "configfs setup of $NQN failed"
	dmesg_tail nvmet
fi

# The reference's restart: the port loses the subsystem (nvmet drops its controllers and
# stops listening), then gets it back.
target_stop() { rm "/sys/kernel/config/nvmet/ports/1/subsystems/$NQN"; }
target_start() { ln -s "/sys/kernel/config/nvmet/subsystems/$NQN" /sys/kernel/config/nvmet/ports/1/subsystems/; }
