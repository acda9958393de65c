using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Irq;

/// <summary>
/// Interrupt descriptors of a dump (crash's irq, irq -s; /proc/interrupts). Descriptors come from the maple tree
/// <c>sparse_irqs</c> (Linux ≥ 6.5), the radix tree/xarray <c>irq_desc_tree</c> (CONFIG_SPARSE_IRQ before 6.5) or the
/// static <c>irq_desc[]</c> array. A descriptor that cannot be read is reported through the error callback with an
/// id (IrqDescriptorUnreadable ...) and the walk goes on.
/// </summary>
public sealed class IrqReader
{
    /// <summary>Most descriptors walked (the kernel's IRQ_BITMAP_BITS is NR_IRQS + 8196; MAX_SPARSE_IRQS is INT_MAX but real systems stay far below).</summary>
    public const int MaxDescriptors = 1 << 20;
    /// <summary>Longest irqaction chain followed for one IRQ.</summary>
    public const int MaxActions = 256;

    private readonly KernelProgram _p;
    private readonly KType _desc;
    private readonly int _nrCpus;

    public IrqReader(KernelProgram program)
    {
        _p = program ?? throw new ArgumentNullException(nameof(program));
        _desc = program.TryFindType("struct irq_desc")
            ?? throw new KdumpException("IrqTypesMissing", KdumpErrorKind.NotFound,
                $"The kernel's struct irq_desc is not known ({program.TypeSourceText}); the interrupt descriptors cannot be read.", "struct irq_desc");
        _nrCpus = program.PerCpuOffsets.Count;
    }

    /// <summary>Number of possible CPUs (nr_cpu_ids).</summary>
    public int CpuCount => _nrCpus;

    /// <summary>(irq, irq_desc address) pairs in IRQ order.</summary>
    public IEnumerable<(int Irq, ulong Descriptor)> EnumerateDescriptors(CancellationToken cancellation = default)
    {
        if (_p.FindSymbol("sparse_irqs") is { } mt)
        {
            foreach (var e in _p.MapleTreeForEach(mt.Address, MaxDescriptors))
            {
                cancellation.ThrowIfCancellationRequested();
                if (e.Last - e.First > MaxDescriptors || e.First > int.MaxValue) throw Corrupt($"sparse_irqs holds the range {e.First}-{e.Last}.");
                for (ulong i = e.First; i <= e.Last; i++) yield return ((int)i, e.Value);
            }
            yield break;
        }
        if (_p.FindSymbol("irq_desc_tree") is { } tree)
        {
            foreach (var e in _p.XArrayForEach(tree.Address, MaxDescriptors))
            {
                cancellation.ThrowIfCancellationRequested();
                if (e.Index > int.MaxValue) throw Corrupt($"irq_desc_tree holds index {e.Index}.");
                yield return ((int)e.Index, e.Value);
            }
            yield break;
        }
        if (_p.FindSymbol("irq_desc") is { } arr)
        {
            int n = _p.FindSymbol("nr_irqs") is { } nr ? unchecked((int)_p.ReadU32(nr.Address)) : 0;
            if (n <= 0 || n > MaxDescriptors) throw Corrupt($"nr_irqs is {n}.");
            for (int i = 0; i < n; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                yield return (i, arr.Address + (ulong)i * _desc.Size);
            }
            yield break;
        }
        throw new KdumpException("IrqDescriptorsNotFound", KdumpErrorKind.NotFound,
            $"None of sparse_irqs, irq_desc_tree or irq_desc is known ({_p.SymbolSourceText}).", "irq_desc");
    }

    private static KdumpException Corrupt(string what) => new("IrqTableCorrupt", KdumpErrorKind.InvalidData, $"The interrupt descriptor table is damaged: {what}", what);

    /// <summary>The descriptor list (crash's irq). Each unreadable descriptor goes to <paramref name="onError"/>.</summary>
    public IEnumerable<CrashIrq> Enumerate(Action<KdumpException> onError, CancellationToken cancellation = default)
    {
        foreach (var (irq, addr) in EnumerateDescriptors(cancellation))
        {
            CrashIrq? item = null;
            try { item = Read(irq, addr); }
            catch (KdumpException ex) { onError(Unreadable(irq, addr, ex)); }
            if (item is not null) yield return item;
        }
    }

    /// <summary>
    /// The /proc/interrupts lines (crash's irq -s): descriptors with an action or a non-zero count. <paramref name="cpus"/>
    /// selects the CPU columns (null: all).
    /// </summary>
    public IEnumerable<CrashIrqStatistics> EnumerateStatistics(IReadOnlyList<int>? cpus, Action<KdumpException> onError, CancellationToken cancellation = default)
    {
        var columns = cpus ?? Enumerable.Range(0, _nrCpus).ToArray();
        foreach (var c in columns)
            if (c < 0 || c >= _nrCpus)
                throw new KdumpException("CpuNotFound", KdumpErrorKind.InvalidArgument, $"CPU {c} does not exist (nr_cpu_ids {_nrCpus}).", c);
        foreach (var (irq, addr) in EnumerateDescriptors(cancellation))
        {
            CrashIrqStatistics? item = null;
            try
            {
                var d = Read(irq, addr);
                var all = ReadCounts(addr);
                var counts = columns.Select(c => all[c]).ToArray();
                if (d.Action != 0 || all.Any(x => x != 0))
                {
                    bool hasDomain = new KernelObject(_p, addr, _desc).Member("irq_data.domain").ReadPointer() != 0;
                    string chip = d.ChipName.Length == 0 ? "None" : d.ChipName;
                    if (hasDomain) chip += " " + d.HwIrq;
                    if (d.FlowName.Length > 0) chip += "-" + d.FlowName;
                    item = new CrashIrqStatistics
                    {
                        Irq = irq, Descriptor = addr, Cpus = columns, CountsPerCpu = counts, Total = counts.Aggregate(0UL, (a, b) => a + b),
                        Chip = chip, CrashChip = d.ChipName + (d.FlowName.Length > 0 ? "-" + d.FlowName : ""),
                        ChipName = d.ChipName, HwIrq = d.HwIrq, FlowName = d.FlowName,
                        Name = string.Join(", ", d.ActionNames), Affinity = d.Affinity,
                    };
                }
            }
            catch (KdumpException ex) { onError(Unreadable(irq, addr, ex)); }
            if (item is not null) yield return item;
        }
    }

    private static KdumpException Unreadable(int irq, ulong addr, KdumpException ex) =>
        new("IrqDescriptorUnreadable", ex.Kind == KdumpErrorKind.LimitExceeded ? ex.Kind : KdumpErrorKind.ReadError,
            $"IRQ {irq}: cannot read its descriptor at 0x{addr:x}: {ex.Message}", irq, ex);

    /// <summary>Reads one descriptor: actions, chip, flow name, hwirq and affinity.</summary>
    public CrashIrq Read(int irq, ulong descriptor)
    {
        var d = new KernelObject(_p, descriptor, _desc);
        uint irqField = d.ReadField<uint>("irq_data.irq");
        if (irqField != (uint)irq)
            throw new KdumpException("IrqDescriptorMismatch", KdumpErrorKind.InvalidData,
                $"The descriptor at 0x{descriptor:x} says it is IRQ {irqField}, but the table holds it as IRQ {irq}.", descriptor);
        var actions = new List<ulong>();
        var names = new List<string>();
        ulong a = d.Member("action").ReadPointer();
        var seen = new HashSet<ulong>();
        while (a != 0)
        {
            if (!seen.Add(a)) throw new KdumpException("ListCycle", KdumpErrorKind.InvalidData, $"IRQ {irq}: the irqaction chain loops at 0x{a:x}.", a);
            if (actions.Count >= MaxActions) throw new KdumpException("ListTooLong", KdumpErrorKind.LimitExceeded, $"IRQ {irq}: more than {MaxActions} irqactions.", descriptor);
            var act = _p.Object(a, "struct irqaction");
            actions.Add(a);
            names.Add(act.Member("name").ReadString(256));
            a = act.Member("next").ReadPointer();
        }
        string chipName = "";
        ulong chip = d.Member("irq_data.chip").ReadPointer();
        if (chip != 0) chipName = _p.Object(chip, "struct irq_chip").Member("name").ReadString(256);
        return new CrashIrq
        {
            Irq = irq, Descriptor = descriptor, Action = actions.Count > 0 ? actions[0] : 0, Name = names.Count > 0 ? names[0] : "",
            Actions = actions, ActionNames = names, ChipName = chipName,
            HwIrq = d.ReadField<ulong>("irq_data.hwirq"),
            FlowName = d.Member("name").ReadString(256),
            Affinity = ReadAffinity(d),
        };
    }

    /// <summary>Per-CPU counts of one descriptor (index = CPU), from desc->kstat_irqs.</summary>
    public ulong[] ReadCounts(ulong descriptor)
    {
        var k = new KernelObject(_p, descriptor, _desc).Member("kstat_irqs");
        var counts = new ulong[_nrCpus];
        ulong ptr = k.ReadPointer();
        if (ptr == 0) return counts;
        // Linux < 6.10: unsigned int __percpu *; later: struct irqstat __percpu * (cnt first).
        ulong cntOffset = 0;
        if (k.ResolvedType is KRefType { Kind: TypeKind.Pointer } p && p.Target.Resolve() is KStructType st && st.TryFindMember("cnt", out _, out var bits))
            cntOffset = bits / 8;
        for (int c = 0; c < _nrCpus; c++) counts[c] = _p.ReadU32(_p.PerCpuAddress(ptr, c) + cntOffset);
        return counts;
    }

    private IReadOnlyList<int> ReadAffinity(KernelObject desc)
    {
        if (!desc.Member("irq_common_data").HasMember("affinity")) return Array.Empty<int>();
        var aff = desc.Member("irq_common_data.affinity");
        ulong maskAddr = aff.ResolvedType is KRefType { Kind: TypeKind.Pointer } ? aff.ReadPointer() : aff.Address;
        if (maskAddr == 0) return Array.Empty<int>();
        return ReadCpumask(_p, maskAddr, _nrCpus);
    }

    /// <summary>The set bits of a struct cpumask at <paramref name="address"/>, below <paramref name="nrCpus"/>.</summary>
    public static IReadOnlyList<int> ReadCpumask(KernelProgram p, ulong address, int nrCpus)
    {
        var cpus = new List<int>();
        int words = (nrCpus + 63) / 64;
        for (int w = 0; w < words; w++)
        {
            ulong bits = p.ReadU64(address + (ulong)w * 8);
            for (int b = 0; b < 64 && w * 64 + b < nrCpus; b++)
                if ((bits >> b & 1) != 0) cpus.Add(w * 64 + b);
        }
        return cpus;
    }
}
