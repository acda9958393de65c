using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Tasks;

/// <summary>
/// mm_struct memory counters: total_vm and the RSS counters. Linux ≤ 6.1 keeps <c>mm->rss_stat.count[]</c> as
/// atomics (plus per-thread caches in <c>task->rss_stat</c> under SPLIT_RSS_COUNTING); 6.2+ keeps an array of
/// percpu_counters whose value is count + each CPU's delta. RSS is MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES.
/// </summary>
internal sealed class MemoryCounters
{
    private readonly KernelProgram _p;
    private readonly ulong _totalVm, _rss;
    private readonly bool _percpu;
    private readonly ulong _counterSize, _pcCount, _pcCounters;
    private readonly int[] _rssIndexes;
    private readonly ulong? _taskRssCount;
    private readonly int _counterCount;

    public MemoryCounters(KernelProgram p, TaskLayout task)
    {
        _p = p;
        var mm = p.FindType("struct mm_struct");
        _totalVm = KernelObject.MemberOffset(mm, "total_vm");
        _rss = KernelObject.MemberOffset(mm, "rss_stat");
        var rssType = ((KStructType)mm.Resolve()).TryFindMember("rss_stat", out var m, out _) ? m.Type.Resolve()
            : throw new KdumpException("KernelTypeMissing", KdumpErrorKind.NotFound, "The kernel type 'struct mm_struct' has no member 'rss_stat' (needed for RSS).", "struct mm_struct.rss_stat");
        int file = Enum("MM_FILEPAGES"), anon = Enum("MM_ANONPAGES"), shmem = Enum("MM_SHMEMPAGES");
        _rssIndexes = new[] { file, anon, shmem };
        if (rssType is KArrayType { Element: var el } arr && el.Resolve() is KStructType { Name: "percpu_counter" } pc)
        {
            _percpu = true;
            _counterSize = pc.Size;
            _counterCount = (int)arr.Count;
            _pcCount = KernelObject.MemberOffset(pc, "count");
            _pcCounters = KernelObject.MemberOffset(pc, "counters");
        }
        else
        {
            ulong countOff = KernelObject.MemberOffset(rssType, "count");
            _rss += countOff;
            // struct mm_rss_stat { atomic_long_t count[NR_MM_COUNTERS]; }: element size and count from the array type
            if (!(rssType is KStructType st && st.TryFindMember("count", out var cm, out _) && cm.Type.Resolve() is KArrayType { Count: > 0 and <= 16 } ca))
                throw new KdumpException("KernelTypeMissing", KdumpErrorKind.NotFound, "The kernel type 'struct mm_rss_stat' has no array member 'count' (needed for RSS).", "struct mm_rss_stat.count");
            _counterSize = ca.Element.Size;
            _counterCount = (int)ca.Count;
        }
        if (task.TaskRssStat is { } trs && p.TryFindType("struct task_rss_stat") is { } trt)
            _taskRssCount = trs + KernelObject.MemberOffset(trt, "count");

        int Enum(string name) => p.TryFindEnumerator(name, out long v) && v is >= 0 and < 16 ? (int)v
            : throw new KdumpException("KernelTypeMissing", KdumpErrorKind.NotFound, $"The enumerator '{name}' (enum rss_stat_item, needed for RSS) is not known to the type sources ({p.TypeSourceText}).", name);
    }

    public ulong TotalVmPages(ulong mm) => _p.ReadU64(mm + _totalVm);

    /// <summary>
    /// Resident pages counted in the mm itself (without per-thread caches), each counter clamped at 0 as the kernel's
    /// get_mm_counter() does: under SPLIT_RSS_COUNTING an mm counter goes negative while threads hold positive deltas.
    /// </summary>
    public long MmRssPages(ulong mm)
    {
        long sum = 0;
        foreach (int i in _rssIndexes)
        {
            if (i >= _counterCount) continue;
            if (_percpu)
            {
                ulong c = mm + _rss + (ulong)i * _counterSize;
                long v = (long)_p.ReadU64(c + _pcCount);
                ulong counters = _p.ReadU64(c + _pcCounters);
                if (counters != 0)
                    foreach (var off in _p.PerCpuOffsets)
                        v += unchecked((int)_p.ReadU32(unchecked(counters + off)));
                sum += Math.Max(0, v);
            }
            else sum += Math.Max(0, (long)_p.ReadU64(mm + _rss + (ulong)i * 8)); // get_mm_counter() clamps at 0
        }
        return sum;
    }

    /// <summary>A thread's not-yet-synced RSS deltas (SPLIT_RSS_COUNTING, Linux ≤ 6.1); 0 when the kernel has none.</summary>
    public long TaskRssPages(ulong task)
    {
        if (_taskRssCount is not { } off) return 0;
        long sum = 0;
        foreach (int i in _rssIndexes)
            if (i < _counterCount) sum += unchecked((int)_p.ReadU32(task + off + (ulong)i * 4));
        return sum;
    }
}
