using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Kdump.Engine.Model;

namespace Kdump.Engine.Linux.Triage;

/// <summary>
/// A panic signature that stays the same across dumps of the same failure: the panic class and the top frames of
/// the failing code path. The path starts below the panic machinery (the last of panic, oops_end, die, crash_kexec
/// ... near the top of the panicking task's stack, or the last exception frame below it), skips exception and
/// interrupt entry frames, and drops offsets, addresses and the compiler's clone suffixes (.cold, .constprop.0,
/// .isra.0, .part.0), which vary between builds of the same source. Module names stay ("func [mod]"). Without
/// frames the signature falls back to the panic message with its numbers masked.
/// </summary>
public static class PanicSignature
{
    /// <summary>How many frames the signature keeps.</summary>
    public const int Depth = 5;
    /// <summary>How far down the stack the panic machinery is looked for.</summary>
    public const int AnchorSearch = 32;

    private static readonly HashSet<string> s_anchors = new(StringComparer.Ordinal)
    {
        "panic", "vpanic", "nmi_panic", "oops_end", "die", "__die", "die_addr", "__crash_kexec", "crash_kexec", "machine_kexec",
        "make_task_dead",
    };

    private static readonly Regex s_plumbing = new(@"^(asm_)?(exc_|sysvec_|__sysvec_|common_interrupt|irq_exit|__irq_exit_rcu|handle_bug$|do_trap$|do_error_trap$|do_int3|page_fault_oops$|kernelmode_fixup_or_oops$|__bad_area_nosemaphore$|bad_area_nosemaphore$|hrtimer_interrupt$|__hrtimer_run_queues$|watchdog_timer_fn$|__run_hrtimer$|nmi_|default_do_nmi$|do_nmi$|end_repeat_nmi$|report_bug$)", RegexOptions.CultureInvariant);
    private static readonly Regex s_suffix = new(@"(\.(cold|constprop|isra|part|lto_priv|llvm|localalias|str)(\.\d+)?)+$", RegexOptions.CultureInvariant);
    private static readonly Regex s_numbers = new(@"0x[0-9a-fA-F]+|\b[0-9a-fA-F]{8,}\b|\d+", RegexOptions.CultureInvariant);

    /// <summary>A frame's function without offsets or clone suffixes, with its module ("func [mod]"); null for an unnamed frame.</summary>
    public static string? FrameName(CrashFrame f)
    {
        if (f.Function is null) return null;
        string name = s_suffix.Replace(f.Function, "");
        return f.Module is null ? name : $"{name} [{f.Module}]";
    }

    /// <summary>The frames of the failing path (top first), per the rules above.</summary>
    public static IReadOnlyList<string> Frames(IReadOnlyList<CrashFrame> frames, int depth = Depth)
    {
        int start = 0;
        int limit = Math.Min(frames.Count, AnchorSearch);
        for (int i = 0; i < limit; i++)
            if (frames[i].Function is { } fn && s_anchors.Contains(s_suffix.Replace(fn, ""))) start = i + 1;
        // an exception frame (pt_regs of an Oops, a BUG, an interrupted context) below the machinery: the failure is there
        for (int i = start; i < limit; i++)
            if (frames[i].ExceptionLocation is not null && i > 0) { start = i; break; }
        var list = new List<string>(depth);
        for (int i = start; i < frames.Count && list.Count < depth; i++)
        {
            if (FrameName(frames[i]) is not { } name) continue;
            if (s_plumbing.IsMatch(name)) continue;
            list.Add(name);
        }
        return list;
    }

    /// <summary>The readable signature and its hash.</summary>
    public static (string Text, string Hash, IReadOnlyList<string> Frames) Build(TriagePanicClass cls, IReadOnlyList<CrashFrame>? frames, string panicMessage)
    {
        var f = frames is null ? Array.Empty<string>() : Frames(frames);
        string text = f.Count > 0
            ? $"{cls}: {string.Join(" < ", f)}"
            : $"{cls}: {s_numbers.Replace(panicMessage.Trim(), "N")}";
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();
        return (text, hash, f);
    }
}
