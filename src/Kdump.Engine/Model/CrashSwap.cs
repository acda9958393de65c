using Kdump.Engine;
namespace Kdump.Engine.Model;

/// <summary>One swap device or file (crash's swap, /proc/swaps).</summary>
public sealed class CrashSwap : DumpRecord
{
    /// <summary>Address of the struct swap_info_struct.</summary>
    public KernelAddress SwapInfo { get; init; }
    /// <summary>The swap type number (index in swap_info[]).</summary>
    public int Index { get; init; }
    /// <summary>"PARTITION" (a block device) or "FILE".</summary>
    public string Type { get; init; } = "";
    /// <summary>Usable pages (si->pages).</summary>
    public ulong Pages { get; init; }
    /// <summary>Pages in use (si->inuse_pages).</summary>
    public ulong UsedPages { get; init; }
    /// <summary>Size in KiB (pages × page size / 1024), as crash and /proc/swaps print it.</summary>
    public ulong Size { get; init; }
    /// <summary>Used KiB.</summary>
    public ulong Used { get; init; }
    /// <summary>Used × 100 / Size, truncated as crash does.</summary>
    public int Percent { get; init; }
    public short Priority { get; init; }
    /// <summary>The swap file's path (d_path of swap_file).</summary>
    public string FileName { get; init; } = "";
    /// <summary>si->flags (SWP_USED, SWP_WRITEOK ...).</summary>
    public ulong Flags { get; init; }
    /// <summary>True while swapon is complete and swapoff has not started (SWP_WRITEOK).</summary>
    public bool IsActive { get; init; }
    public override string ToString() => $"{SwapInfo:x16}  {Type,-9}  {Size}k  {Used}k  {Percent}%  {Priority}  {FileName}";
}
