namespace Kdump.Engine.Config;

/// <summary>Which family of kdump tooling the configuration belongs to.</summary>
public enum KdumpConfigFlavor
{
    None,
    /// <summary>/etc/kdump.conf (kexec-tools / kdump-utils: RHEL, Fedora, CentOS, Amazon Linux).</summary>
    RedHat,
    /// <summary>/etc/default/kdump-tools (Debian, Ubuntu).</summary>
    Debian,
    /// <summary>/etc/sysconfig/kdump with KDUMP_SAVEDIR (SUSE, openSUSE).</summary>
    Suse,
}

/// <summary>One directive or variable of a kdump configuration file, where it is.</summary>
public sealed class KdumpConfigDirective
{
    public string Name { get; init; } = "";
    public string Value { get; init; } = "";
    public string File { get; init; } = "";
    public int Line { get; init; }
    /// <summary>The trailing comment on the line, without '#'; null when none.</summary>
    public string? Comment { get; init; }
    public KdumpConfigFlavor Flavor { get; init; }
    public override string ToString() => $"{Name} {Value}";
}

/// <summary>Where the dump is written.</summary>
public sealed class KdumpTarget
{
    /// <summary>raw, nfs, ssh, ext2, ext3, ext4, xfs, btrfs, minix, virtiofs, mount (dracut_args --mount), ftp or local.</summary>
    public string Type { get; init; } = "local";
    /// <summary>Device, LABEL=/UUID=, host:/export, user@host; empty for the root file system.</summary>
    public string Location { get; init; } = "";
    /// <summary>True when no target is configured and the dump goes to the root file system.</summary>
    public bool IsDefault { get; init; }
    public string? File { get; init; }
    public int Line { get; init; }
    public bool IsNetwork => Type is "nfs" or "ssh" or "ftp";
    public override string ToString() => IsDefault ? "local (root fs)" : $"{Type} {Location}";
}

/// <summary>Page classes makedumpfile's dump level (-d) excludes.</summary>
[Flags]
public enum DumpLevelExclusion
{
    None = 0,
    Zero = 1,
    NonPrivateCache = 2,
    PrivateCache = 4,
    UserData = 8,
    Free = 16,
}

/// <summary>makedumpfile page compression.</summary>
public enum DumpCompression { None, Zlib, Lzo, Snappy, Zstd }

/// <summary>The core collector command and, when it is makedumpfile, its options decoded.</summary>
public sealed class CoreCollectorInfo
{
    public string CommandLine { get; init; } = "";
    public string Program { get; init; } = "";
    public bool IsMakedumpfile { get; init; }
    /// <summary>True when not configured and the tool's built-in default applies.</summary>
    public bool IsDefault { get; init; }
    public DumpCompression Compression { get; init; }
    /// <summary>The -d value; null when absent (makedumpfile then keeps every page).</summary>
    public int? DumpLevel { get; init; }
    public DumpLevelExclusion ExcludedPages { get; init; }
    public int? MessageLevel { get; init; }
    /// <summary>-F: flattened format on standard output (required for ssh and raw targets).</summary>
    public bool Flattened { get; init; }
    /// <summary>-E: ELF output instead of kdump-compressed.</summary>
    public bool Elf { get; init; }
    /// <summary>Every compression flag seen, in order (more than one is a mistake).</summary>
    public IReadOnlyList<DumpCompression> CompressionFlags { get; init; } = [];
    /// <summary>Options not decoded above, verbatim.</summary>
    public IReadOnlyList<string> OtherOptions { get; init; } = [];
    public override string ToString() => CommandLine;
}

/// <summary>How a crashkernel= value is written.</summary>
public enum CrashKernelKind { Size, Ranges, Auto, Invalid }

/// <summary>Which reservation a crashkernel= value asks for.</summary>
public enum CrashKernelModifier { None, High, Low, Cma }

/// <summary>One range of a crashkernel=start-[end]:size,... list (end exclusive; null = no upper bound).</summary>
public sealed class CrashKernelRange
{
    public ulong Start { get; init; }
    public ulong? End { get; init; }
    public ulong Size { get; init; }
    public bool Contains(ulong ram) => ram >= Start && (End is null || ram < End.Value);
    public override string ToString() => $"{CrashKernelValue.FormatSize(Start)}-{(End is { } e ? CrashKernelValue.FormatSize(e) : "")}:{CrashKernelValue.FormatSize(Size)}";
}

/// <summary>One crashkernel= parameter, parsed.</summary>
public sealed class CrashKernelValue
{
    /// <summary>The text after "crashkernel=".</summary>
    public string Value { get; init; } = "";
    public CrashKernelKind Kind { get; init; }
    public CrashKernelModifier Modifier { get; init; }
    /// <summary>The size for the Size kind; null otherwise.</summary>
    public ulong? Size { get; init; }
    public ulong? Offset { get; init; }
    public IReadOnlyList<CrashKernelRange> Ranges { get; init; } = [];
    /// <summary>Why the value is invalid (Kind = Invalid).</summary>
    public string? Error { get; init; }

    /// <summary>The bytes the kernel reserves for this value on a machine with <paramref name="ramBytes"/> of RAM; null for auto/invalid.</summary>
    public ulong? SizeFor(ulong ramBytes) => Kind switch
    {
        CrashKernelKind.Size => Size,
        CrashKernelKind.Ranges => Ranges.FirstOrDefault(r => r.Contains(ramBytes))?.Size ?? 0,
        _ => null,
    };

    public override string ToString() => "crashkernel=" + Value;

    public static string FormatSize(ulong v)
    {
        if (v == 0) return "0";
        foreach (var (suffix, shift) in new[] { ("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10) })
            if (v % (1UL << shift) == 0) return (v >> shift) + suffix;
        return v.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>Where a kernel command line lives.</summary>
public enum BootEntryKind
{
    /// <summary>GRUB_CMDLINE_LINUX / GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub.</summary>
    GrubDefault,
    /// <summary>The same variables in /etc/default/grub.d/*.cfg.</summary>
    GrubDefaultDropIn,
    /// <summary>A Boot Loader Specification entry /boot/loader/entries/*.conf (options line).</summary>
    BootLoaderSpec,
    /// <summary>A kernel line of the legacy /boot/grub/grub.conf (RHEL 6).</summary>
    GrubLegacy,
}

/// <summary>A kernel command line of the boot configuration and the crashkernel= values on it.</summary>
public sealed class KernelBootEntry
{
    public BootEntryKind Kind { get; init; }
    /// <summary>BLS entry id, grub.conf title, or the GRUB variable name.</summary>
    public string Name { get; init; } = "";
    /// <summary>The kernel image (BLS linux / grub.conf kernel path); empty for GRUB defaults.</summary>
    public string Kernel { get; init; } = "";
    public string? Version { get; init; }
    public string File { get; init; } = "";
    public int Line { get; init; }
    public string CommandLine { get; init; } = "";
    public IReadOnlyList<CrashKernelValue> CrashKernel { get; init; } = [];
    public override string ToString() => $"{Name}: {string.Join(' ', CrashKernel)}";
}

/// <summary>The kdump configuration of a host, summarised (Get-KdumpConfig).</summary>
public sealed class KdumpConfiguration
{
    public string Root { get; init; } = "/";
    public KdumpConfigFlavor Flavor { get; init; }
    /// <summary>The main configuration file (/etc/kdump.conf, /etc/default/kdump-tools or /etc/sysconfig/kdump); null when none.</summary>
    public string? ConfigFile { get; init; }
    /// <summary>Debian's USE_KDUMP / SUSE's service switch; null when the flavor has none.</summary>
    public bool? Enabled { get; init; }
    public KdumpTarget Target { get; init; } = new() { IsDefault = true };
    public IReadOnlyList<KdumpTarget> Targets { get; init; } = [];
    public string Path { get; init; } = "/var/crash";
    public bool PathIsDefault { get; init; }
    public CoreCollectorInfo CoreCollector { get; init; } = new();
    public string? SshKey { get; init; }
    public string? FailureAction { get; init; }
    public string? FinalAction { get; init; }
    public IReadOnlyList<string> ExtraBins { get; init; } = [];
    public IReadOnlyList<string> ExtraModules { get; init; } = [];
    public IReadOnlyList<KernelBootEntry> BootEntries { get; init; } = [];
    public IReadOnlyList<KdumpConfigDirective> Directives { get; init; } = [];

    /// <summary>The distinct crashkernel= settings across the boot entries.</summary>
    public string CrashKernel => string.Join("; ", BootEntries.Select(e => string.Join(' ', e.CrashKernel.Select(c => c.Value)))
        .Where(s => s.Length > 0).Distinct());
}

public enum FindingSeverity { Error, Warning, Information }

/// <summary>One result of Test-KdumpConfig.</summary>
public sealed class KdumpConfigFinding
{
    public FindingSeverity Severity { get; init; }
    public string RuleId { get; init; } = "";
    public string? File { get; init; }
    public int Line { get; init; }
    public string Message { get; init; } = "";
    public string? SuggestedFix { get; init; }
    public override string ToString() => $"{Severity} {RuleId}: {Message}";
}

/// <summary>One line Set-KdumpConfig changes (Old null = inserted line).</summary>
public sealed class KdumpConfigChange
{
    public string File { get; init; } = "";
    public int Line { get; init; }
    public string? Old { get; init; }
    public string? New { get; init; }
    public string Setting { get; init; } = "";
    public override string ToString() => $"{File}:{Line}: -{Old} +{New}";

    /// <summary>At most <paramref name="width"/> characters of the old line, cut around the part that changed.</summary>
    public string? OldExcerpt(int width) => Excerpt(Old, New, width);

    /// <summary>At most <paramref name="width"/> characters of the new line, cut around the part that changed.</summary>
    public string? NewExcerpt(int width) => Excerpt(New, Old, width);

    /// <summary>
    /// A window of <paramref name="text"/> that shows where it differs from <paramref name="other"/> (so a long
    /// GRUB_CMDLINE_LINUX or BLS options line shows its crashkernel= value at 80 columns), with "…" where cut.
    /// </summary>
    internal static string? Excerpt(string? text, string? other, int width)
    {
        if (text is null || text.Length <= width || width < 8) return text;
        int prefix = 0;
        if (other is not null)
            while (prefix < text.Length && prefix < other.Length && text[prefix] == other[prefix]) prefix++;
        // start a little before the change, at a word boundary; a change at the very end shows the end
        int start = Math.Max(0, prefix - width / 4);
        if (start > 0)
        {
            int blank = text.LastIndexOf(' ', Math.Max(0, prefix - 1), Math.Max(0, prefix - start));
            if (blank > 0) start = blank + 1;
        }
        if (start > 0 && text.Length - start < width - 1) start = text.Length - (width - 1);
        bool cutStart = start > 0;
        int room = width - (cutStart ? 1 : 0);
        bool cutEnd = text.Length - start > room;
        if (cutEnd) room--;
        return (cutStart ? "…" : "") + text.Substring(start, Math.Min(room, text.Length - start)) + (cutEnd ? "…" : "");
    }
}

/// <summary>A reserved crash kernel range from /proc/iomem.</summary>
public sealed class CrashKernelRegion
{
    public ulong Start { get; init; }
    public ulong End { get; init; }
    /// <summary>False when /proc/iomem hides addresses (read without CAP_SYS_ADMIN shows zeros).</summary>
    public bool AddressKnown { get; init; }
    public ulong Size => AddressKnown ? End - Start + 1 : 0;
    public override string ToString() => AddressKnown ? $"{Start:x}-{End:x}" : "(address hidden)";
}

/// <summary>Whether kdump is armed on the running system (Get-KdumpStatus).</summary>
public sealed class KdumpStatus
{
    public string Root { get; init; } = "/";
    public bool Operational { get; init; }
    public IReadOnlyList<string> Reasons { get; init; } = [];
    /// <summary>crashkernel= values on /proc/cmdline.</summary>
    public IReadOnlyList<CrashKernelValue> CommandLineCrashKernel { get; init; } = [];
    public IReadOnlyList<CrashKernelRegion> ReservedRegions { get; init; } = [];
    /// <summary>/sys/kernel/kexec_crash_size; null when the file is missing.</summary>
    public ulong? ReservedBytes { get; init; }
    /// <summary>/sys/kernel/kexec_crash_loaded; null when the file is missing.</summary>
    public bool? CrashKernelLoaded { get; init; }
    public string? Service { get; init; }
    /// <summary>systemctl is-active output (active, inactive, failed ...); null when not asked.</summary>
    public string? ServiceState { get; init; }
}
