using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.MemInfo;

/// <summary>The figures of crash's kmem -i, in pages.</summary>
public sealed record MemoryInfoFigures(
    ulong TotalRam, ulong Free, ulong Shared, ulong Buffers, ulong Cached, ulong Slab,
    ulong HugeTotal, ulong HugeFree, ulong SwapTotal, ulong SwapFree, ulong CommitLimit, ulong Committed,
    ulong FilePages, ulong SwapCache, ulong Shmem, ulong CommittedSum);

/// <summary>
/// crash's kmem -i over a dump: totalram_pages; free pages from vm_zone_stat[NR_FREE_PAGES]; SHARED from a scan of the
/// page array (non-reserved pages whose _refcount is above 1); buffers as nr_blockdev_pages() (the block device
/// inodes' page cache); cached = vm_node_stat[NR_FILE_PAGES] − swap cache (NR_SWAPCACHE) − buffers; slab =
/// NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B; huge pages from hstates[]; swap from total_swap_pages and
/// nr_swap_pages; the commit limit and vm_committed_as as the kernel computes them. Counter indexes come from the
/// type finder's enumerators. A figure that cannot be read is a warning with an id and reads as 0.
/// </summary>
public sealed partial class MemoryInfoReader
{
    public const int MaxInodes = 1 << 22;
    public const int MaxNodes = 1024;
    /// <summary>Most page frames scanned for SHARED (64 GiB of 4 KiB pages); beyond it SHARED is a lower bound.</summary>
    public const ulong MaxScannedPages = 1UL << 24;

    private readonly KernelProgram _p;
    private readonly Action<string, string> _warn;
    private readonly CancellationToken _cancel;

    /// <param name="onWarning">(error id, message) for a figure that could not be read.</param>
    public MemoryInfoReader(KernelProgram program, Action<string, string>? onWarning = null, CancellationToken cancellation = default)
    {
        _p = program ?? throw new ArgumentNullException(nameof(program));
        _warn = onWarning ?? ((_, _) => { });
        _cancel = cancellation;
    }

    private int PageSize => _p.PageSize;

    public MemoryInfoFigures Read()
    {
        ulong total = SystemPages.TotalRamPages(_p);
        if (total == 0) throw new KdumpException("MemoryInfoUnavailable", KdumpErrorKind.NotFound, "totalram_pages cannot be read, so no memory figures can be given.", "_totalram_pages");
        ulong free = Try("NR_FREE_PAGES", () => ZoneStat("NR_FREE_PAGES"));
        ulong filePages = Try("NR_FILE_PAGES", () => NodeStat("NR_FILE_PAGES"));
        ulong shmem = Try("NR_SHMEM", () => NodeStat("NR_SHMEM"));
        ulong slab = Try("NR_SLAB", () => NodeStat("NR_SLAB_RECLAIMABLE_B", "NR_SLAB_RECLAIMABLE") + NodeStat("NR_SLAB_UNRECLAIMABLE_B", "NR_SLAB_UNRECLAIMABLE"));
        ulong buffers = Try("Buffers", BlockdevPages);
        ulong swapCache = Try("SwapCache", SwapCachePages);
        long cached = (long)filePages - (long)swapCache - (long)buffers;
        ulong shared = Try("Shared", SharedPages);
        var (hugeTotal, hugeFree) = TryPair("HugePages", HugePages);
        ulong swapTotal = Try("total_swap_pages", () => ReadLongSymbol("total_swap_pages"));
        ulong swapFree = Try("nr_swap_pages", () => ReadLongSymbol("nr_swap_pages"));
        ulong limit = Try("CommitLimit", () => CommitLimit(total, hugeTotal, swapTotal));
        ulong committed = Try("Committed", () => Committed(false));
        ulong committedSum = Try("Committed", () => Committed(true));
        return new MemoryInfoFigures(total, free, shared, buffers, cached < 0 ? 0 : (ulong)cached, slab, hugeTotal, hugeFree,
            swapTotal, swapFree, limit, committed, filePages, swapCache, shmem, committedSum);
    }

    /// <summary>The lines crash's kmem -i prints, in its order.</summary>
    public IReadOnlyList<CrashMemoryInfoLine> ReadLines() => ToLines(Read(), PageSize);

    public static IReadOnlyList<CrashMemoryInfoLine> ToLines(MemoryInfoFigures f, int pageSize)
    {
        var lines = new List<CrashMemoryInfoLine>();
        void Add(string name, ulong pages, ulong? of, string? ofName, string source)
        {
            int? pct = of is null ? null : of == 0 ? 0 : (int)(pages * 100 / of.Value);
            lines.Add(new CrashMemoryInfoLine
            {
                Name = name, Pages = pages, Bytes = pages * (ulong)pageSize, Size = CrashMemoryInfoLine.FormatSize(pages * (ulong)pageSize),
                Percent = pct, PercentOf = of is null ? null : ofName, Source = source,
            });
        }
        Add("TOTAL MEM", f.TotalRam, null, null, "totalram_pages");
        Add("FREE", f.Free, f.TotalRam, "TOTAL MEM", "vm_zone_stat[NR_FREE_PAGES]");
        Add("USED", f.TotalRam > f.Free ? f.TotalRam - f.Free : 0, f.TotalRam, "TOTAL MEM", "TOTAL MEM - FREE");
        Add("SHARED", f.Shared, f.TotalRam, "TOTAL MEM", "pages with _refcount > 1 (not PG_reserved)");
        Add("BUFFERS", f.Buffers, f.TotalRam, "TOTAL MEM", "nr_blockdev_pages()");
        Add("CACHED", f.Cached, f.TotalRam, "TOTAL MEM", "NR_FILE_PAGES - swap cache - BUFFERS");
        Add("SLAB", f.Slab, f.TotalRam, "TOTAL MEM", "NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B");
        Add("TOTAL HUGE", f.HugeTotal, null, null, "hstates[].nr_huge_pages");
        Add("HUGE FREE", f.HugeFree, f.HugeTotal, "TOTAL HUGE", "hstates[].free_huge_pages");
        Add("TOTAL SWAP", f.SwapTotal, null, null, "total_swap_pages");
        Add("SWAP USED", f.SwapTotal > f.SwapFree ? f.SwapTotal - f.SwapFree : 0, f.SwapTotal, "TOTAL SWAP", "TOTAL SWAP - SWAP FREE");
        Add("SWAP FREE", f.SwapFree, f.SwapTotal, "TOTAL SWAP", "nr_swap_pages");
        Add("COMMIT LIMIT", f.CommitLimit, null, null, "vm_commit_limit()");
        Add("COMMITTED", f.Committed, f.CommitLimit, "TOTAL LIMIT", "vm_committed_as.count");
        return lines;
    }

    private ulong Try(string what, Func<ulong> read)
    {
        _cancel.ThrowIfCancellationRequested();
        try { return read(); }
        catch (KdumpException ex) { _warn("MemoryFigureUnreadable", $"{what}: {ex.Message} (counted as 0)"); return 0; }
    }

    private (ulong, ulong) TryPair(string what, Func<(ulong, ulong)> read)
    {
        try { return read(); }
        catch (KdumpException ex) { _warn("MemoryFigureUnreadable", $"{what}: {ex.Message} (counted as 0)"); return (0, 0); }
    }

    private long Enumerator(params string[] names)
    {
        foreach (var n in names) if (_p.TryFindEnumerator(n, out var v)) return v;
        throw new KdumpException("EnumeratorNotFound", KdumpErrorKind.NotFound, $"The counter index {names[0]} is not known ({_p.TypeSourceText}).", names[0]);
    }

    /// <summary>global_zone_page_state: vm_zone_stat[item], negative per-CPU drift clamped to 0.</summary>
    private ulong ZoneStat(string item) => Counter("vm_zone_stat", Enumerator(item));

    private ulong NodeStat(params string[] items) => Counter("vm_node_stat", Enumerator(items));

    private ulong Counter(string array, long index)
    {
        if (index < 0 || index > 4096) throw new KdumpException("EnumeratorInvalid", KdumpErrorKind.InvalidData, $"{array} index {index} is out of range.", index);
        long v = unchecked((long)_p.ReadU64(_p.GetSymbol(array).Address + (ulong)index * 8));
        return v < 0 ? 0 : (ulong)v;
    }

    private ulong ReadLongSymbol(string name)
    {
        long v = unchecked((long)_p.ReadU64(_p.GetSymbol(name).Address));
        return v < 0 ? 0 : (ulong)v;
    }

    /// <summary>nr_blockdev_pages(): the page cache of every inode on blockdev_superblock->s_inodes.</summary>
    private ulong BlockdevPages()
    {
        ulong sb = _p.ReadU64(_p.GetSymbol("blockdev_superblock").Address);
        if (sb == 0) return 0;
        var sbType = _p.FindType("struct super_block");
        var inode = _p.FindType("struct inode");
        var mapping = _p.FindType("struct address_space");
        ulong head = sb + KernelObject.MemberOffset(sbType, "s_inodes");
        ulong iMapping = KernelObject.MemberOffset(inode, "i_mapping"), nrpages = KernelObject.MemberOffset(mapping, "nrpages");
        ulong sum = 0;
        foreach (var i in _p.ListForEachEntry(head, inode, "i_sb_list", MaxInodes))
        {
            _cancel.ThrowIfCancellationRequested();
            ulong m = _p.ReadU64(i.Address + iMapping);
            if (m != 0) sum += _p.ReadU64(m + nrpages);
        }
        return sum;
    }

    /// <summary>
    /// The swap cache: the kernel's own counter vm_node_stat[NR_SWAPCACHE] (5.13+; crash reads it), else
    /// total_swapcache_pages(): nrpages of swapper_spaces[type][0 .. nr_swapper_spaces[type]). The two differ while
    /// folios are being added or removed (6.12: 462 vs 467 pages), and crash's CACHED follows the counter.
    /// </summary>
    private ulong SwapCachePages()
    {
        if (_p.TryFindEnumerator("NR_SWAPCACHE", out var swapCacheIndex)) return Counter("vm_node_stat", swapCacheIndex);
        if (_p.FindSymbol("swapper_spaces") is not { } spaces || _p.FindSymbol("nr_swapper_spaces") is not { } counts) return 0;
        int types = (int)_p.ReadU32(_p.GetSymbol("nr_swapfiles").Address);
        if (types > 32) throw new KdumpException("SwapTableCorrupt", KdumpErrorKind.InvalidData, $"nr_swapfiles is {types}.", types);
        var mapping = _p.FindType("struct address_space");
        ulong nrpages = KernelObject.MemberOffset(mapping, "nrpages");
        ulong sum = 0;
        for (int t = 0; t < types; t++)
        {
            uint n = _p.ReadU32(counts.Address + (ulong)t * 4);
            ulong arr = _p.ReadU64(spaces.Address + (ulong)t * 8);
            if (arr == 0 || n == 0) continue;
            if (n > 1 << 20) throw new KdumpException("SwapTableCorrupt", KdumpErrorKind.InvalidData, $"nr_swapper_spaces[{t}] is {n}.", n);
            for (uint j = 0; j < n; j++) sum += _p.ReadU64(arr + j * mapping.Size + nrpages);
        }
        return sum;
    }

    /// <summary>Sum of nr_huge_pages and free_huge_pages of every hstate, in base pages.</summary>
    private (ulong, ulong) HugePages()
    {
        if (_p.FindSymbol("hstates") is not { } hs || _p.FindSymbol("hugetlb_max_hstate") is not { } max) return (0, 0);
        var type = _p.FindType("struct hstate");
        uint n = _p.ReadU32(max.Address);
        if (n > 16) throw new KdumpException("HugeTableCorrupt", KdumpErrorKind.InvalidData, $"hugetlb_max_hstate is {n}.", n);
        ulong total = 0, free = 0;
        for (uint i = 0; i < n; i++)
        {
            var h = new KernelObject(_p, hs.Address + i * type.Size, type);
            uint order = h.ReadField<uint>("order");
            if (order > 30) throw new KdumpException("HugeTableCorrupt", KdumpErrorKind.InvalidData, $"hstates[{i}].order is {order}.", order);
            total += h.ReadField<ulong>("nr_huge_pages") << (int)order;
            free += h.ReadField<ulong>("free_huge_pages") << (int)order;
        }
        return (total, free);
    }

    /// <summary>vm_commit_limit(): overcommit_kbytes, else (totalram − huge) × overcommit_ratio / 100; plus swap.</summary>
    private ulong CommitLimit(ulong total, ulong huge, ulong swap)
    {
        ulong kbytes = _p.FindSymbol("sysctl_overcommit_kbytes") is { } kb ? _p.ReadU64(kb.Address) : 0;
        ulong allowed;
        if (kbytes != 0) allowed = kbytes / (ulong)(PageSize / 1024);
        else
        {
            ulong ratio = _p.ReadU32(_p.GetSymbol("sysctl_overcommit_ratio").Address);
            allowed = (total > huge ? total - huge : 0) * ratio / 100;
        }
        return allowed + swap;
    }

    /// <summary>
    /// vm_committed_as: its global count as crash reads it (percpu_counter_read_positive), or with
    /// <paramref name="sum"/> the exact percpu_counter_sum_positive /proc/meminfo's Committed_AS shows.
    /// </summary>
    private ulong Committed(bool sum)
    {
        var pc = _p.FindType("struct percpu_counter");
        ulong addr = _p.GetSymbol("vm_committed_as").Address;
        var o = new KernelObject(_p, addr, pc);
        long total = o.ReadField<long>("count");
        ulong counters = o.Member("counters").ReadPointer();
        if (sum && counters != 0)
            for (int c = 0; c < _p.PerCpuOffsets.Count; c++) total += unchecked((int)_p.ReadU32(_p.PerCpuAddress(counters, c)));
        return total < 0 ? 0 : (ulong)total;
    }
}
