using System.Globalization;

namespace Kdump.Engine.Model;

/// <summary>One line of crash's <c>kmem -i</c>: a figure in pages, in bytes, and as a share of its group's total.</summary>
public sealed class CrashMemoryInfoLine : DumpRecord
{
    /// <summary>crash's label: "TOTAL MEM", "FREE", "USED", "SHARED", "BUFFERS", "CACHED", "SLAB", "TOTAL HUGE", "HUGE FREE",
    /// "TOTAL SWAP", "SWAP USED", "SWAP FREE", "COMMIT LIMIT", "COMMITTED".</summary>
    public string Name { get; init; } = "";
    public ulong Pages { get; init; }
    public ulong Bytes { get; init; }
    /// <summary>The size as crash prints it ("205.5 MB", "512 MB", "0").</summary>
    public string Size { get; init; } = "";
    /// <summary>Pages × 100 / the group total, truncated as crash does; null for a group's total line.</summary>
    public int? Percent { get; init; }
    /// <summary>What <see cref="Percent"/> is of: "TOTAL MEM", "TOTAL HUGE", "TOTAL SWAP" or "TOTAL LIMIT"; null for totals.</summary>
    public string? PercentOf { get; init; }
    /// <summary>crash's PERCENTAGE column ("4% of TOTAL MEM", "----").</summary>
    public string PercentText => Percent is { } p ? $"{p}% of {PercentOf}" : "----";
    /// <summary>Where the figure comes from (totalram_pages, vm_zone_stat[NR_FREE_PAGES] ...).</summary>
    public string Source { get; init; } = "";

    /// <summary>crash's pages_to_size: "%.1f GB/MB/KB" without a trailing ".0", plain bytes below 1 KB, "0" for nothing.</summary>
    public static string FormatSize(ulong bytes)
    {
        if (bytes == 0) return "0";
        double b = bytes;
        string s;
        if (b >= 1UL << 30) s = (b / (1UL << 30)).ToString("F1", CultureInfo.InvariantCulture) + " GB";
        else if (b >= 1UL << 20) s = (b / (1UL << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MB";
        else if (b >= 1UL << 10) s = (b / (1UL << 10)).ToString("F1", CultureInfo.InvariantCulture) + " KB";
        else return bytes.ToString(CultureInfo.InvariantCulture);
        return s.Replace(".0 ", " ", StringComparison.Ordinal);
    }

    public override string ToString() => $"{Name,13}  {Pages,7}  {Size,11}  {PercentText}";
}
