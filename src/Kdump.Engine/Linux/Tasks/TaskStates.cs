namespace Kdump.Engine.Linux.Tasks;

/// <summary>
/// The kernel's task state bits for one kernel generation, and crash's two-letter spelling of a state
/// (RU IN UN ST TR ZO DE ID WA PA NE). The bit values moved in Linux 4.14 (TASK_PARKED became 0x40 and
/// everything after it shifted), so the layout is chosen by release.
/// </summary>
public sealed class TaskStates
{
    public ulong Interruptible { get; private init; } = 0x1;
    public ulong Uninterruptible { get; private init; } = 0x2;
    public ulong Stopped { get; private init; } = 0x4;
    public ulong Traced { get; private init; } = 0x8;
    public ulong ExitDead { get; private init; } = 0x10;
    public ulong ExitZombie { get; private init; } = 0x20;
    public ulong Parked { get; private init; }
    public ulong Dead { get; private init; }
    public ulong WakeKill { get; private init; }
    public ulong Waking { get; private init; }
    public ulong NoLoad { get; private init; }
    public ulong New { get; private init; }

    /// <summary>Linux ≥ 4.14 (include/linux/sched.h since "sched/core: Add TASK_PARKED to TASK_REPORT").</summary>
    public static readonly TaskStates Modern = new()
    {
        Parked = 0x40, Dead = 0x80, WakeKill = 0x100, Waking = 0x200, NoLoad = 0x400, New = 0x800,
    };

    /// <summary>Linux 3.x – 4.13.</summary>
    public static readonly TaskStates Legacy = new()
    {
        Dead = 0x40, WakeKill = 0x80, Waking = 0x100, Parked = 0x200, NoLoad = 0x400, New = 0x800,
    };

    /// <summary>The layout for a kernel release string ("6.1.0-57-amd64"); modern when unknown.</summary>
    public static TaskStates ForRelease(string? release)
    {
        if (release is null) return Modern;
        var parts = release.Split('.', '-');
        if (parts.Length >= 2 && int.TryParse(parts[0], out int major) && int.TryParse(new string(parts[1].TakeWhile(char.IsDigit).ToArray()), out int minor))
            return major > 4 || (major == 4 && minor >= 14) ? Modern : Legacy;
        return Modern;
    }

    /// <summary>
    /// crash's letters for a task: exit_state first (a zombie or dead task keeps a stale __state), then the run
    /// state; TASK_IDLE (uninterruptible + no-load) is ID.
    /// </summary>
    public string Letters(ulong state, int exitState)
    {
        ulong exit = (ulong)(uint)exitState;
        if ((exit & ExitZombie) != 0) return "ZO";
        if ((exit & ExitDead) != 0) return "DE";
        if (state == 0) return "RU";
        if ((state & Interruptible) != 0) return "IN";
        if ((state & Uninterruptible) != 0) return NoLoad != 0 && (state & NoLoad) != 0 ? "ID" : "UN";
        if ((state & Stopped) != 0) return "ST";
        if ((state & Traced) != 0) return "TR";
        if ((state & ExitZombie) != 0) return "ZO";
        if ((state & ExitDead) != 0 || (Dead != 0 && (state & Dead) != 0)) return "DE";
        if (Waking != 0 && (state & Waking) != 0) return "WA";
        if (Parked != 0 && (state & Parked) != 0) return "PA";
        if (New != 0 && (state & New) != 0) return "NE";
        if (WakeKill != 0 && (state & WakeKill) != 0) return "WK";
        return "??";
    }

    /// <summary>Every spelling <see cref="Letters"/> can return (for -State validation and completion).</summary>
    public static readonly IReadOnlyList<string> AllLetters = new[] { "RU", "IN", "UN", "ST", "TR", "ZO", "DE", "ID", "WA", "PA", "NE", "WK", "??" };
}
