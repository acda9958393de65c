namespace Kdump.Engine.Linux.Mm;

/// <summary>vm_flags bit names as crash's <c>vm -f</c> spells them, for the kernel generation at hand.</summary>
public static class VmFlags
{
    // include/linux/mm.h, Linux ≥ 5.15 (VM_DENYWRITE gone, 0x800 unused)
    private static readonly (ulong Bit, string Name)[] s_modern =
    {
        (0x1, "READ"), (0x2, "WRITE"), (0x4, "EXEC"), (0x8, "SHARED"), (0x10, "MAYREAD"), (0x20, "MAYWRITE"), (0x40, "MAYEXEC"),
        (0x80, "MAYSHARE"), (0x100, "GROWSDOWN"), (0x200, "UFFD_MISSING"), (0x400, "PFNMAP"), (0x1000, "UFFD_WP"), (0x2000, "LOCKED"),
        (0x4000, "IO"), (0x8000, "SEQ_READ"), (0x10000, "RAND_READ"), (0x20000, "DONTCOPY"), (0x40000, "DONTEXPAND"),
        (0x80000, "LOCKONFAULT"), (0x100000, "ACCOUNT"), (0x200000, "NORESERVE"), (0x400000, "HUGETLB"), (0x800000, "SYNC"),
        (0x1000000, "ARCH_1"), (0x2000000, "WIPEONFORK"), (0x4000000, "DONTDUMP"), (0x8000000, "SOFTDIRTY"), (0x10000000, "MIXEDMAP"),
        (0x20000000, "HUGEPAGE"), (0x40000000, "NOHUGEPAGE"), (0x80000000, "MERGEABLE"),
    };

    // before 5.15: 0x800 is VM_DENYWRITE
    private static readonly (ulong Bit, string Name)[] s_legacy = s_modern.Append((0x800UL, "DENYWRITE")).OrderBy(x => x.Item1).ToArray();

    public static IReadOnlyList<string> Decode(ulong flags, string? release)
    {
        var table = IsModern(release) ? s_modern : s_legacy;
        var names = new List<string>();
        ulong known = 0;
        foreach (var (bit, name) in table)
        {
            known |= bit;
            if ((flags & bit) != 0) names.Add(name);
        }
        for (int b = 0; b < 64; b++)
        {
            ulong bit = 1UL << b;
            if ((flags & bit) != 0 && (known & bit) == 0) names.Add($"0x{bit:x}");
        }
        return names;
    }

    /// <summary>/proc/PID/maps permissions ("r-xp").</summary>
    public static string Permissions(ulong flags) =>
        $"{((flags & 1) != 0 ? 'r' : '-')}{((flags & 2) != 0 ? 'w' : '-')}{((flags & 4) != 0 ? 'x' : '-')}{((flags & 0x80) != 0 ? 's' : 'p')}";

    private static bool IsModern(string? release)
    {
        if (release is null) return true;
        var parts = release.Split('.', '-');
        return parts.Length < 2 || !int.TryParse(parts[0], out int major) || !int.TryParse(new string(parts[1].TakeWhile(char.IsDigit).ToArray()), out int minor)
            || major > 5 || (major == 5 && minor >= 15);
    }
}
