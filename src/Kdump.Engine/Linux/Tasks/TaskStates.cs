using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Tasks;

/// <summary>
/// The kernel's task state bits, and crash's two-letter spelling of a state (RU IN UN ST TR ZO DE ID WA PA NE).
/// The bit values moved over the years (EXIT_ZOMBIE/EXIT_DEAD swapped in 3.14, TASK_PARKED became 0x40 in 4.14 and
/// everything after it shifted), so they are read from the kernel itself: fs/proc/array.c's task_state_array names
/// one state per bit ("R (running)" for 0, then bit 0, bit 1 ...), see <see cref="FromKernel"/>.
/// </summary>
public sealed record TaskStates
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

    /// <summary>Hard limit on the entries read from task_state_array (the kernel has 7 to 11).</summary>
    public const int MaxStateNames = 16;

    /// <summary>Where the bits came from: "task_state_array" or why the release was used instead.</summary>
    public string Source { get; private init; } = "built in";

    /// <summary>
    /// The state bits of the program's kernel, from its own task_state_array: entry 0 is TASK_RUNNING, entry i ≥ 1
    /// names bit i-1 by its letter (S D T t X Z, and on older kernels x K W P; "I (idle)" is a report-only value).
    /// The bits the array does not list follow from the ones it does: with P (parked) right after Z (4.14+), TASK_DEAD,
    /// WAKEKILL and WAKING are the next bits above it; without it (before 4.14), they follow Z and TASK_PARKED is after
    /// WAKING. TASK_NOLOAD (0x400) and TASK_NEW (0x800) have not moved since they were added. When the array cannot be
    /// read (no symbol for it: CONFIG_KALLSYMS_ALL off and no vmlinux), the release decides and
    /// <see cref="Source"/> says why.
    /// </summary>
    public static TaskStates FromKernel(KernelProgram p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return p.Caches.TaskStates.GetOrCreate(() =>
        {
            string why;
            try
            {
                if (p.FindSymbol("task_state_array") is { } sym)
                {
                    var names = new List<string>();
                    for (int i = 0; i < MaxStateNames; i++)
                    {
                        ulong ptr;
                        try { ptr = p.ReadU64(sym.Address + (ulong)i * 8); }
                        catch (KdumpException) { break; }
                        if (ptr == 0) break;
                        string name;
                        try { name = p.ReadCString(ptr, 32); }
                        catch (KdumpException) { break; }
                        if (!IsStateName(name)) break; // past the end of the array
                        names.Add(name);
                    }
                    if (FromNames(names) is { } fromArray) return fromArray;
                    why = $"task_state_array at 0x{sym.Address:x} does not hold state names ({names.Count} read: {string.Join(", ", names)})";
                }
                else why = "the symbol task_state_array is not known (kallsyms without CONFIG_KALLSYMS_ALL, and no vmlinux)";
            }
            catch (KdumpException ex) { why = $"task_state_array cannot be read: {ex.Message}"; }
            var byRelease = ForRelease(p.OsRelease);
            return byRelease with { Source = $"kernel release {p.OsRelease ?? "unknown"} ({why})" };
        });
    }

    /// <summary>"R (running)", "t (tracing stop)" ...: one letter, a space and a parenthesised word.</summary>
    private static bool IsStateName(string s) => s.Length is >= 5 and <= 31 && char.IsAsciiLetter(s[0]) && s[1] == ' ' && s[2] == '(' && s[^1] == ')';

    /// <summary>The bits from the names of task_state_array (index 0 = running, index i = bit i-1); null when they do not look like one.</summary>
    public static TaskStates? FromNames(IReadOnlyList<string> names)
    {
        if (names.Count < 7 || names[0][0] != 'R') return null;
        ulong Bit(char letter)
        {
            for (int i = 1; i < names.Count; i++) if (names[i][0] == letter) return 1UL << (i - 1);
            return 0;
        }
        ulong s = Bit('S'), d = Bit('D'), t = Bit('T'), tr = Bit('t'), x = Bit('X'), z = Bit('Z'), parked = Bit('P');
        if (s == 0 || d == 0 || t == 0 || x == 0 || z == 0) return null;
        ulong deadBit = Bit('x'), wakeKill = Bit('K'), waking = Bit('W');
        ulong top = Math.Max(x, z);
        if (parked == top << 1)
        {
            // 4.14+: TASK_PARKED follows the exit states; TASK_DEAD, WAKEKILL, WAKING follow it
            deadBit = deadBit != 0 ? deadBit : parked << 1;
            wakeKill = wakeKill != 0 ? wakeKill : parked << 2;
            waking = waking != 0 ? waking : parked << 3;
        }
        else
        {
            // before 4.14: TASK_DEAD, WAKEKILL, WAKING, PARKED follow the exit states (3.x lists them all)
            deadBit = deadBit != 0 ? deadBit : top << 1;
            wakeKill = wakeKill != 0 ? wakeKill : deadBit << 1;
            waking = waking != 0 ? waking : wakeKill << 1;
            parked = parked != 0 ? parked : waking << 1;
        }
        return new TaskStates
        {
            Interruptible = s, Uninterruptible = d, Stopped = t, Traced = tr, ExitDead = x, ExitZombie = z,
            Parked = parked, Dead = deadBit, WakeKill = wakeKill, Waking = waking, NoLoad = 0x400, New = 0x800,
            Source = $"task_state_array ({string.Join(", ", names)})",
        };
    }

    /// <summary>The layout for a kernel release string ("6.1.0-57-amd64"); modern when unknown. Used only when the kernel's task_state_array cannot be read.</summary>
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
