namespace Kdump.Engine.Model;

/// <summary>What kind of failure brought the kernel down (Get-CrashTriage's PanicClass).</summary>
public enum TriagePanicClass
{
    /// <summary>No panic message and no failure found in the log.</summary>
    Unknown,
    /// <summary>A panic with a message that names none of the kinds below.</summary>
    Panic,
    /// <summary>A crash forced with sysrq-c (echo c &gt; /proc/sysrq-trigger).</summary>
    Sysrq,
    /// <summary>An Oops (page fault in kernel mode, general protection fault ...), not a NULL dereference.</summary>
    Oops,
    /// <summary>An Oops on a NULL (or near-NULL) pointer dereference.</summary>
    NullPointer,
    /// <summary>BUG()/BUG_ON() ("kernel BUG at file:line").</summary>
    Bug,
    /// <summary>A WARN() that panicked because of panic_on_warn.</summary>
    WarnPanic,
    /// <summary>hung_task_panic: a task stayed in D state longer than hung_task_timeout_secs.</summary>
    HungTask,
    /// <summary>softlockup_panic: a CPU did not schedule for too long.</summary>
    SoftLockup,
    /// <summary>hardlockup_panic: a CPU did not take timer interrupts (NMI watchdog).</summary>
    HardLockup,
    /// <summary>panic_on_oom, or out of memory with nothing left to kill.</summary>
    OutOfMemory,
    /// <summary>A fatal machine check (hardware error).</summary>
    MachineCheck,
}

/// <summary>
/// One dump's triage (Get-CrashTriage): what failed and where, a stable signature to group dumps of the same
/// failure, the system's state (taint, uptime, load, memory), the tasks that matter (the panicking one, those on a
/// CPU, those blocked in D state) with their backtraces, and what the kernel log warned about.
/// </summary>
public sealed class CrashTriage : DumpRecord
{
    public string DumpFile { get; init; } = "";
    public string NodeName { get; init; } = "";
    public string Release { get; init; } = "";
    public string Machine { get; init; } = "";
    public int Cpus { get; init; }
    public DateTimeOffset? Date { get; init; }
    public TimeSpan? Uptime { get; init; }
    public IReadOnlyList<double> LoadAverage { get; init; } = Array.Empty<double>();
    public string LoadAverageText { get; init; } = "";

    public TriagePanicClass PanicClass { get; init; }
    /// <summary>The panic as crash's sys shows it ("Kernel panic - not syncing: ...", "sysrq: ...", an Oops line).</summary>
    public string PanicMessage { get; init; } = "";
    /// <summary>The first line of the failure report in the log that led to the panic ("BUG: kernel NULL pointer dereference, address: ...").</summary>
    public string? FailureLine { get; init; }
    /// <summary>For an Oops/BUG: the faulting instruction as the log's RIP line gives it ("func+0x12/0x40 [module]").</summary>
    public string? Rip { get; init; }
    public CrashProcess? PanicTask { get; init; }
    public int? PanicCpu { get; init; }
    public CrashBacktrace? PanicBacktrace { get; init; }

    /// <summary>The panic signature, readable: the class and the top frames of the failing path, without addresses,
    /// offsets or compiler suffixes; module names kept ("Sysrq: sysrq_handle_crash &lt; __handle_sysrq &lt; ...").</summary>
    public string Signature { get; init; } = "";
    /// <summary>A short hash of <see cref="Signature"/> (16 hex digits of its SHA-256).</summary>
    public string SignatureHash { get; init; } = "";
    /// <summary>The frames the signature is made of.</summary>
    public IReadOnlyList<string> SignatureFrames { get; init; } = Array.Empty<string>();

    /// <summary>tainted_mask.</summary>
    public ulong Taint { get; init; }
    /// <summary>The taint letters as the kernel prints them after "Tainted:" (e.g. "P O"), or "Not tainted".</summary>
    public string TaintText { get; init; } = "";
    /// <summary>The names of the taint flags set (PROPRIETARY_MODULE, DIE, WARN ...).</summary>
    public IReadOnlyList<string> TaintFlags { get; init; } = Array.Empty<string>();

    public CrashMemoryPressure? Memory { get; init; }
    /// <summary>The task on each CPU at the crash, with its backtrace.</summary>
    public IReadOnlyList<CrashTriageTask> OnCpu { get; init; } = Array.Empty<CrashTriageTask>();
    /// <summary>The tasks in uninterruptible sleep (D state), longest-waiting first, with backtraces.</summary>
    public IReadOnlyList<CrashTriageTask> BlockedTasks { get; init; } = Array.Empty<CrashTriageTask>();
    /// <summary>How many tasks are in D state (<see cref="BlockedTasks"/> holds at most the first ones).</summary>
    public int BlockedTaskCount { get; init; }
    /// <summary>The last error-or-worse log lines (levels emerg..err).</summary>
    public IReadOnlyList<string> ErrorLog { get; init; } = Array.Empty<string>();
    /// <summary>What the log reported: RCU stalls, lockups, OOM kills, hung tasks, warnings, Oopses, BUGs.</summary>
    public IReadOnlyList<CrashTriageFinding> Findings { get; init; } = Array.Empty<CrashTriageFinding>();
    /// <summary>What could not be read; the triage holds everything else.</summary>
    public IReadOnlyList<string> Problems { get; init; } = Array.Empty<string>();

    public override string ToString() => $"{PanicClass} {SignatureHash} {Signature}";
}

/// <summary>A task that matters to the triage (on a CPU, or blocked), with its backtrace.</summary>
public sealed class CrashTriageTask
{
    public int Pid { get; init; }
    public KernelAddress Task { get; init; }
    public int Cpu { get; init; }
    public string Command { get; init; } = "";
    /// <summary>crash's state letters (RU, UN ...).</summary>
    public string State { get; init; } = "";
    /// <summary>How long before the crash the task last began running (for a D-state task: how long it has waited at most).</summary>
    public TimeSpan? SinceLastRun { get; init; }
    /// <summary>The frames as "function [module]", top first, without offsets.</summary>
    public IReadOnlyList<string> Frames { get; init; } = Array.Empty<string>();
    public CrashBacktrace? Backtrace { get; init; }
    public override string ToString() => $"{Pid} {Command} {State} {string.Join(" < ", Frames.Take(4))}";
}

/// <summary>Something the kernel log reported (Get-CrashTriage's Findings).</summary>
public sealed class CrashTriageFinding
{
    /// <summary>RcuStall, SoftLockup, HardLockup, OomKill, OomInvoked, HungTask, Warning, Oops, Bug, NullPointer, MachineCheck, Panic, Sysrq.</summary>
    public string Kind { get; init; } = "";
    /// <summary>Seconds since boot of the log record.</summary>
    public double Timestamp { get; init; }
    public ulong Sequence { get; init; }
    public string Text { get; init; } = "";
    public override string ToString() => $"[{Timestamp,12:F6}] {Kind}: {Text}";
}

/// <summary>Memory at the crash, from crash's kmem -i figures (bytes).</summary>
public sealed class CrashMemoryPressure
{
    public ulong Total { get; init; }
    public ulong Free { get; init; }
    public ulong Cached { get; init; }
    public ulong Slab { get; init; }
    public ulong SwapTotal { get; init; }
    public ulong SwapFree { get; init; }
    public ulong CommitLimit { get; init; }
    public ulong Committed { get; init; }
    public double FreePercent => Total == 0 ? 0 : Math.Round(Free * 100.0 / Total, 1);
    public double SwapUsedPercent => SwapTotal == 0 ? 0 : Math.Round((SwapTotal - Math.Min(SwapFree, SwapTotal)) * 100.0 / SwapTotal, 1);
    public double CommittedPercent => CommitLimit == 0 ? 0 : Math.Round(Committed * 100.0 / CommitLimit, 1);
    public override string ToString() => $"free {FreePercent}% swap used {SwapUsedPercent}% committed {CommittedPercent}% of limit";
}

/// <summary>One difference between two triages (Compare-CrashDump).</summary>
public sealed class CrashTriageDifference
{
    /// <summary>The triage property that differs (PanicClass, Signature, TaintText, Finding:RcuStall ...).</summary>
    public string Property { get; init; } = "";
    public string? Reference { get; init; }
    public string? Difference { get; init; }
    public VmcoreIdentity? ReferenceVmcore { get; init; }
    public VmcoreIdentity? DifferenceVmcore { get; init; }
    public override string ToString() => $"{Property}: {Reference} => {Difference}";
}
