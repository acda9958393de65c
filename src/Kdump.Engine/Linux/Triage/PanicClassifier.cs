using System.Text.RegularExpressions;
using Kdump.Engine.Model;

namespace Kdump.Engine.Linux.Triage;

/// <summary>
/// Classifies a panic from its message and the kernel log, and picks out what the log warned about. The message
/// decides first when it names the cause (sysrq, out of memory, hung task, soft/hard lockup, machine check,
/// panic_on_warn); otherwise the last failure report in the log (NULL dereference, BUG, Oops, GPF, WARNING) does.
/// </summary>
public static class PanicClassifier
{
    private static readonly (string Kind, Regex Pattern)[] s_findings =
    {
        ("Panic", Rx(@"Kernel panic - not syncing")),
        ("Sysrq", Rx(@"sysrq: (SysRq : )?Trigger a crash")),
        ("RcuStall", Rx(@"rcu: INFO: \S+ (self-)?detected stall|rcu_\w+ (self-)?detected stall|rcu: INFO: \S+ detected expedited stalls")),
        ("SoftLockup", Rx(@"watchdog: BUG: soft lockup|BUG: soft lockup")),
        ("HardLockup", Rx(@"Watchdog detected hard LOCKUP|NMI watchdog: .*hard LOCKUP")),
        ("OomInvoked", Rx(@"invoked oom-killer")),
        ("OomKill", Rx(@"Out of memory: Kill(ed)? process|oom-kill:|Memory cgroup out of memory: Kill")),
        ("HungTask", Rx(@"INFO: task .+ blocked for more than \d+ seconds")),
        ("NullPointer", Rx(@"BUG: kernel NULL pointer dereference|BUG: unable to handle kernel NULL pointer dereference")),
        ("Bug", Rx(@"kernel BUG at |BUG: (?!soft lockup|kernel NULL|unable to handle)")),
        ("Oops", Rx(@"^Oops: |general protection fault|BUG: unable to handle page fault|BUG: unable to handle kernel paging request")),
        ("Warning", Rx(@"^WARNING: CPU: \d+ PID: \d+ at ")),
        ("MachineCheck", Rx(@"mce: \[Hardware Error\]|Machine check events logged|Fatal machine check")),
    };

    private static Regex Rx(string p) => new(p, RegexOptions.CultureInvariant | RegexOptions.Compiled);

    /// <summary>The kinds of finding a log line reports (empty for an ordinary line).</summary>
    public static IEnumerable<string> FindingKinds(string line)
    {
        foreach (var (kind, rx) in s_findings)
            if (rx.IsMatch(line)) yield return kind;
    }

    private static readonly Regex s_rip = Rx(@"RIP: 0010:(\S+(?: \[\S+\])?)");

    /// <summary>The function of a kernel-mode RIP line ("RIP: 0010:func+0x12/0x40 [mod]"), or null.</summary>
    public static string? KernelRip(string line) => s_rip.Match(line) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>The class of a panic, from its message and the findings of the log (oldest first).</summary>
    public static TriagePanicClass Classify(string panicMessage, IReadOnlyList<CrashTriageFinding> findings, out string? failureLine)
    {
        var c = Classify(panicMessage, findings);
        failureLine = c.FailureLine;
        return c.Class;
    }

    private static (TriagePanicClass Class, string? FailureLine) Classify(string panicMessage, IReadOnlyList<CrashTriageFinding> findings)
    {
        string m = panicMessage;
        bool Has(string s) => m.Contains(s, StringComparison.OrdinalIgnoreCase);
        CrashTriageFinding? Last(params string[] kinds) => findings.LastOrDefault(f => kinds.Contains(f.Kind));
        (TriagePanicClass, string?) From(TriagePanicClass c, params string[] kinds) => (c, Last(kinds)?.Text);

        if (Has("sysrq triggered crash") || (m.Length == 0 && Last("Sysrq") is not null)) return From(TriagePanicClass.Sysrq, "Sysrq");
        if (Has("Out of memory") || Has("System is deadlocked on memory") || Has("out of memory and no killable")) return From(TriagePanicClass.OutOfMemory, "OomInvoked", "OomKill");
        if (Has("hung_task: blocked tasks") || Has("hung_task")) return From(TriagePanicClass.HungTask, "HungTask");
        if (Has("softlockup: hung tasks") || Has("soft lockup")) return From(TriagePanicClass.SoftLockup, "SoftLockup");
        if (Has("Hard LOCKUP") || Has("hardlockup")) return From(TriagePanicClass.HardLockup, "HardLockup");
        if (Has("Machine check") || Has("MCE")) return From(TriagePanicClass.MachineCheck, "MachineCheck");
        if (Has("panic_on_warn")) return From(TriagePanicClass.WarnPanic, "Warning");
        // a fatal exception: the last failure report before the panic tells which
        var failure = Last("NullPointer", "Bug", "Oops");
        if (failure is not null)
            return (failure.Kind switch { "NullPointer" => TriagePanicClass.NullPointer, "Bug" => TriagePanicClass.Bug, _ => TriagePanicClass.Oops }, failure.Text);
        if (Has("Fatal exception")) return (TriagePanicClass.Oops, null);
        return (m.Length > 0 ? TriagePanicClass.Panic : TriagePanicClass.Unknown, null);
    }
}
