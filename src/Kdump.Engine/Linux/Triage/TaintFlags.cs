namespace Kdump.Engine.Linux.Triage;

/// <summary>The kernel's taint flags (include/linux/panic.h): bit, letter when set, letter when clear, name.</summary>
public static class TaintFlags
{
    private static readonly (char Set, char Clear, string Name)[] s_flags =
    {
        ('P', 'G', "PROPRIETARY_MODULE"), ('F', ' ', "FORCED_MODULE"), ('S', ' ', "CPU_OUT_OF_SPEC"), ('R', ' ', "FORCED_RMMOD"),
        ('M', ' ', "MACHINE_CHECK"), ('B', ' ', "BAD_PAGE"), ('U', ' ', "USER"), ('D', ' ', "DIE"),
        ('A', ' ', "OVERRIDDEN_ACPI_TABLE"), ('W', ' ', "WARN"), ('C', ' ', "CRAP"), ('I', ' ', "FIRMWARE_WORKAROUND"),
        ('O', ' ', "OOT_MODULE"), ('E', ' ', "UNSIGNED_MODULE"), ('L', ' ', "SOFTLOCKUP"), ('K', ' ', "LIVEPATCH"),
        ('X', ' ', "AUX"), ('T', ' ', "RANDSTRUCT"), ('N', ' ', "TEST"),
    };

    /// <summary>The names of the flags set in <paramref name="mask"/> (unknown bits as TAINT_BIT_n).</summary>
    public static IReadOnlyList<string> Names(ulong mask)
    {
        var l = new List<string>();
        for (int i = 0; i < 64; i++)
            if ((mask & (1UL << i)) != 0) l.Add(i < s_flags.Length ? s_flags[i].Name : $"TAINT_BIT_{i}");
        return l;
    }

    /// <summary>What the kernel prints after "Tainted: " (print_tainted): one letter per known flag, or "Not tainted".</summary>
    public static string Text(ulong mask)
    {
        if (mask == 0) return "Not tainted";
        var c = new char[s_flags.Length];
        for (int i = 0; i < s_flags.Length; i++) c[i] = (mask & (1UL << i)) != 0 ? s_flags[i].Set : s_flags[i].Clear;
        return new string(c).TrimEnd();
    }
}
