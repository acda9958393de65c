using Kdump.Engine.Linux.Triage;
using Kdump.Engine.Model;

namespace Kdump.Engine.Tests.Triage;

/// <summary>Issue #13: the panic signature's frame rules, the classifier and the taint decoding, on made-up input.</summary>
public class TriageUnitTests
{
    private static CrashFrame F(int level, string fn, string? module = null, ulong offset = 0x10, bool exception = false) => new()
    {
        Level = level, Function = fn, Module = module, Offset = offset, InstructionPointer = 0xffffffff81000000 + (ulong)level,
        ExceptionLocation = exception ? fn + "+16" : null,
    };

    [Fact]
    public void SignatureStartsBelowPanicAndDropsOffsetsAndCloneSuffixes()
    {
        var kexec = new[] { F(0, "__crash_kexec", exception: true), F(1, "panic"), F(2, "sysrq_handle_crash"), F(3, "__handle_sysrq.cold"),
            F(4, "write_sysrq_trigger"), F(5, "proc_reg_write"), F(6, "vfs_write"), F(7, "ksys_write") };
        var pv = new[] { F(0, "pvpanic_panic_notify", "pvpanic", exception: true), F(1, "atomic_notifier_call_chain"), F(2, "panic", offset: 0x177),
            F(3, "sysrq_handle_crash"), F(4, "__handle_sysrq.constprop.0"), F(5, "write_sysrq_trigger"), F(6, "proc_reg_write"), F(7, "vfs_write") };
        var a = PanicSignature.Build(TriagePanicClass.Sysrq, kexec, "");
        var b = PanicSignature.Build(TriagePanicClass.Sysrq, pv, "");
        Assert.Equal("Sysrq: sysrq_handle_crash < __handle_sysrq < write_sysrq_trigger < proc_reg_write < vfs_write", a.Text);
        Assert.Equal(a.Text, b.Text);
        Assert.Equal(a.Hash, b.Hash);
        Assert.Equal(16, a.Hash.Length);
        // another class, same frames: another signature
        Assert.NotEqual(a.Hash, PanicSignature.Build(TriagePanicClass.Panic, kexec, "").Hash);
    }

    [Fact]
    public void OopsSignatureStartsAtTheExceptionFrameAndKeepsModules()
    {
        var frames = new[] { F(0, "__crash_kexec", exception: true), F(1, "crash_kexec"), F(2, "oops_end"), F(3, "page_fault_oops"),
            F(4, "exc_page_fault"), F(5, "asm_exc_page_fault"), F(6, "my_ioctl.isra.0", "buggy", exception: true), F(7, "do_thing", "buggy"),
            F(8, "__x64_sys_ioctl"), F(9, "do_syscall_64"), F(10, "entry_SYSCALL_64_after_hwframe") };
        var s = PanicSignature.Build(TriagePanicClass.NullPointer, frames, "");
        Assert.Equal(new[] { "my_ioctl [buggy]", "do_thing [buggy]", "__x64_sys_ioctl", "do_syscall_64", "entry_SYSCALL_64_after_hwframe" }, s.Frames);
    }

    [Fact]
    public void SoftLockupSignatureSkipsTheInterruptEntry()
    {
        var frames = new[] { F(0, "__crash_kexec", exception: true), F(1, "panic"), F(2, "watchdog_timer_fn.cold"), F(3, "__hrtimer_run_queues"),
            F(4, "hrtimer_interrupt"), F(5, "__sysvec_apic_timer_interrupt"), F(6, "sysvec_apic_timer_interrupt"), F(7, "asm_sysvec_apic_timer_interrupt"),
            F(8, "spin_forever", "looper", exception: true), F(9, "looper_write", "looper"), F(10, "vfs_write") };
        Assert.Equal(new[] { "spin_forever [looper]", "looper_write [looper]", "vfs_write" }, PanicSignature.Build(TriagePanicClass.SoftLockup, frames, "").Frames);
    }

    [Fact]
    public void WithoutFramesTheSignatureIsTheMessageWithNumbersMasked()
    {
        var a = PanicSignature.Build(TriagePanicClass.Panic, null, "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(8,3)");
        var b = PanicSignature.Build(TriagePanicClass.Panic, Array.Empty<CrashFrame>(), "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(8,1)");
        Assert.Equal(a.Hash, b.Hash);
        Assert.Equal("Panic: Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(N,N)", a.Text);
    }

    private static CrashTriageFinding Fi(string line) => new() { Kind = PanicClassifier.FindingKinds(line).First(), Text = line };

    [Theory]
    [InlineData("Kernel panic - not syncing: sysrq triggered crash", null, TriagePanicClass.Sysrq)]
    [InlineData("Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled", null, TriagePanicClass.OutOfMemory)]
    [InlineData("Kernel panic - not syncing: System is deadlocked on memory", null, TriagePanicClass.OutOfMemory)]
    [InlineData("Kernel panic - not syncing: hung_task: blocked tasks", "INFO: task kworker/0:1:42 blocked for more than 120 seconds.", TriagePanicClass.HungTask)]
    [InlineData("Kernel panic - not syncing: softlockup: hung tasks", "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [looper:99]", TriagePanicClass.SoftLockup)]
    [InlineData("Kernel panic - not syncing: Hard LOCKUP", null, TriagePanicClass.HardLockup)]
    [InlineData("Kernel panic - not syncing: Fatal machine check", null, TriagePanicClass.MachineCheck)]
    [InlineData("Kernel panic - not syncing: kernel: panic_on_warn set ...", "WARNING: CPU: 0 PID: 1 at fs/inode.c:123 iput+0x1/0x2", TriagePanicClass.WarnPanic)]
    [InlineData("Kernel panic - not syncing: Fatal exception", "BUG: kernel NULL pointer dereference, address: 0000000000000008", TriagePanicClass.NullPointer)]
    [InlineData("Kernel panic - not syncing: Fatal exception", "kernel BUG at mm/slub.c:379!", TriagePanicClass.Bug)]
    [InlineData("Kernel panic - not syncing: Fatal exception", "general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP PTI", TriagePanicClass.Oops)]
    [InlineData("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009", null, TriagePanicClass.Panic)]
    [InlineData("", null, TriagePanicClass.Unknown)]
    public void ClassifiesFromTheMessageThenTheLog(string message, string? logLine, TriagePanicClass expected)
    {
        var findings = logLine is null ? new List<CrashTriageFinding>() : new List<CrashTriageFinding> { Fi(logLine) };
        Assert.Equal(expected, PanicClassifier.Classify(message, findings, out var failure));
        if (logLine is not null && expected is not TriagePanicClass.Panic) Assert.Equal(logLine, failure);
    }

    [Theory]
    [InlineData("rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "RcuStall")]
    [InlineData("rcu: INFO: rcu_sched self-detected stall on CPU", "RcuStall")]
    [InlineData("watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [kworker/3:1:123]", "SoftLockup")]
    [InlineData("NMI watchdog: Watchdog detected hard LOCKUP on cpu 2", "HardLockup")]
    [InlineData("Out of memory: Killed process 1234 (java) total-vm:123kB, anon-rss:1kB", "OomKill")]
    [InlineData("INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.", "HungTask")]
    [InlineData("WARNING: CPU: 1 PID: 0 at kernel/time/timer.c:1600 __mod_timer+0x1/0x2", "Warning")]
    [InlineData("mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4: b200000000070f0f", "MachineCheck")]
    public void FindsWarningsInTheLog(string line, string kind) => Assert.Contains(kind, PanicClassifier.FindingKinds(line));

    [Fact]
    public void OrdinaryLinesAreNoFinding() => Assert.Empty(PanicClassifier.FindingKinds("EXT4-fs (vda1): mounted filesystem with ordered data mode."));

    [Fact]
    public void KernelRipIsTakenFromTheOopsRegisterDump()
    {
        Assert.Equal("my_ioctl+0x12/0x40 [buggy]", PanicClassifier.KernelRip("RIP: 0010:my_ioctl+0x12/0x40 [buggy]"));
        Assert.Null(PanicClassifier.KernelRip("RIP: 0033:0x413b5f"));   // user mode
    }

    [Fact]
    public void TaintIsDecodedAsTheKernelPrintsIt()
    {
        Assert.Equal("Not tainted", TaintFlags.Text(0));
        // P (bit 0), W (bit 9), O (bit 12), E (bit 13): "P        W  OE"
        ulong m = 1 | 1 << 9 | 1 << 12 | 1 << 13;
        Assert.Equal("P        W  OE", TaintFlags.Text(m));
        Assert.Equal(new[] { "PROPRIETARY_MODULE", "WARN", "OOT_MODULE", "UNSIGNED_MODULE" }, TaintFlags.Names(m));
        Assert.Equal("G      D", TaintFlags.Text(1 << 7));
    }
}
