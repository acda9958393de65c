namespace Kdump.Engine.Model;

/// <summary>
/// A task's signal state, as crash's <c>sig</c> shows it: the signal_struct and sighand_struct, the handler of
/// every signal, the blocked mask and the private and shared pending sets with their queued signals.
/// Masks have bit (n-1) for signal n.
/// </summary>
public sealed class CrashSignal : DumpRecord
{
    public int Pid { get; init; }
    public KernelAddress Task { get; init; }
    public int Cpu { get; init; }
    public string Command { get; init; } = "";
    /// <summary>task_struct.signal (crash's SIGNAL_STRUCT).</summary>
    public KernelAddress SignalStruct { get; init; }
    /// <summary>task_struct.sighand.</summary>
    public KernelAddress SigHand { get; init; }
    /// <summary>signal_struct.nr_threads.</summary>
    public int Threads { get; init; }
    /// <summary>TIF_SIGPENDING is set in the task's thread_info flags (crash's SIGPENDING).</summary>
    public bool SigPending { get; init; }
    /// <summary>task_struct.blocked.</summary>
    public ulong Blocked { get; init; }
    /// <summary>task_struct.pending.signal: signals sent to this thread.</summary>
    public ulong Pending { get; init; }
    /// <summary>signal_struct.shared_pending.signal: signals sent to the whole thread group.</summary>
    public ulong SharedPending { get; init; }
    /// <summary>The signal numbers queued on task_struct.pending.list (with their struct sigqueue).</summary>
    public IReadOnlyList<CrashSignalQueued> PendingQueue { get; init; } = Array.Empty<CrashSignalQueued>();
    /// <summary>The signal numbers queued on signal_struct.shared_pending.list.</summary>
    public IReadOnlyList<CrashSignalQueued> SharedQueue { get; init; } = Array.Empty<CrashSignalQueued>();
    /// <summary>Every signal's k_sigaction (signals 1 to 64).</summary>
    public IReadOnlyList<CrashSignalAction> Actions { get; init; } = Array.Empty<CrashSignalAction>();
    /// <summary>
    /// The parts of this task's signal state the dump does not hold (e.g. its sighand_struct's page was excluded by
    /// the dump level), each with its error id and address; those parts are zero or empty above.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
    /// <summary>Signals whose handler is SIG_IGN.</summary>
    public ulong Ignored => Mask(a => a.Handler == 1);
    /// <summary>Signals with a handler of the program's own.</summary>
    public ulong Caught => Mask(a => a.Handler > 1);
    /// <summary>Names of the pending signals (private and shared).</summary>
    public IReadOnlyList<string> PendingNames => CrashSignalAction.Names(Pending | SharedPending);
    public IReadOnlyList<string> BlockedNames => CrashSignalAction.Names(Blocked);

    private ulong Mask(Func<CrashSignalAction, bool> f)
    {
        ulong m = 0;
        foreach (var a in Actions) if (f(a) && a.Signal is >= 1 and <= 64) m |= 1UL << (a.Signal - 1);
        return m;
    }

    public override string ToString() => $"PID: {Pid} \"{Command}\" pending {Pending | SharedPending:x16} blocked {Blocked:x16}";
}

/// <summary>One signal's disposition (sighand->action[signal-1]).</summary>
public sealed class CrashSignalAction
{
    public int Signal { get; init; }
    /// <summary>SIGHUP ... SIGSYS, SIGRTMIN+n.</summary>
    public string Name => NameOf(Signal);
    /// <summary>The address of the struct k_sigaction (crash's SIGACTION).</summary>
    public KernelAddress Action { get; init; }
    /// <summary>sa_handler: 0 SIG_DFL, 1 SIG_IGN, else the user handler's address.</summary>
    public KernelAddress Handler { get; init; }
    /// <summary>SIG_DFL, SIG_IGN, or the handler address in hex (crash's HANDLER).</summary>
    public string HandlerText => Handler.Value switch { 0 => "SIG_DFL", 1 => "SIG_IGN", _ => Handler.ToString("x", System.Globalization.CultureInfo.InvariantCulture) };
    /// <summary>sa_mask.</summary>
    public ulong Mask { get; init; }
    /// <summary>sa_flags.</summary>
    public ulong Flags { get; init; }
    /// <summary>The SA_* names of <see cref="Flags"/> (x86 values), as crash lists them.</summary>
    public IReadOnlyList<string> FlagNames => FlagNamesOf(Flags);

    private static readonly (ulong Bit, string Name)[] s_flags =
    {
        (0x04000000, "SA_RESTORER"), (0x00000001, "SA_NOCLDSTOP"), (0x00000002, "SA_NOCLDWAIT"), (0x00000004, "SA_SIGINFO"),
        (0x08000000, "SA_ONSTACK"), (0x10000000, "SA_RESTART"), (0x40000000, "SA_NODEFER"), (0x80000000, "SA_RESETHAND"),
    };

    public static IReadOnlyList<string> FlagNamesOf(ulong flags) => s_flags.Where(f => (flags & f.Bit) != 0).Select(f => f.Name).ToList();

    private static readonly string[] s_names =
    {
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV",
        "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU",
        "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    };

    /// <summary>The name of signal <paramref name="n"/> (x86 numbering; 32 and up are SIGRTMIN+n-32, 64 SIGRTMAX).</summary>
    public static string NameOf(int n) => n switch
    {
        > 0 and < 32 => s_names[n],
        64 => "SIGRTMAX",
        >= 32 and < 64 => n == 32 ? "SIGRTMIN" : $"SIGRTMIN+{n - 32}",
        _ => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The names of the signals in a mask (bit n-1 is signal n).</summary>
    public static IReadOnlyList<string> Names(ulong mask)
    {
        var l = new List<string>();
        for (int i = 0; i < 64; i++) if ((mask & (1UL << i)) != 0) l.Add(NameOf(i + 1));
        return l;
    }

    public override string ToString() => $"[{Signal}] {Name} {HandlerText} {Mask:x16} {Flags:x}";
}

/// <summary>A queued signal (struct sigqueue on a sigpending list).</summary>
public sealed class CrashSignalQueued
{
    public int Signal { get; init; }
    public string Name => CrashSignalAction.NameOf(Signal);
    /// <summary>The address of the struct sigqueue's siginfo (crash's SIGINFO).</summary>
    public KernelAddress SigInfo { get; init; }
    public override string ToString() => $"{Signal} {SigInfo:x}";
}
