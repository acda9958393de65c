using Kdump.Engine.Dump;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Tests.Linux;

/// <summary>The sample dump's memory with some bytes overwritten and some pages reported excluded: corrupt kernels on demand.</summary>
public sealed class PatchedMemory : IPhysicalMemory
{
    private readonly IPhysicalMemory _inner;
    private readonly Dictionary<ulong, List<(int Offset, byte[] Bytes)>> _patches = new();
    private readonly HashSet<ulong> _excluded = new();

    public PatchedMemory(IPhysicalMemory inner) => _inner = inner;
    public int PageSize => _inner.PageSize;
    public ulong MaxPfn => _inner.MaxPfn;

    public void Write(ulong physical, byte[] bytes)
    {
        ulong pfn = physical / (ulong)PageSize;
        int off = (int)(physical % (ulong)PageSize);
        if (off + bytes.Length > PageSize) throw new ArgumentException("patch crosses a page");
        if (!_patches.TryGetValue(pfn, out var l)) _patches[pfn] = l = new();
        l.Add((off, bytes));
    }

    public void WriteU64(ulong physical, ulong value) => Write(physical, BitConverter.GetBytes(value));
    public void Exclude(ulong physical) => _excluded.Add(physical / (ulong)PageSize);

    public PageStatus ReadPage(ulong pfn, Span<byte> destination)
    {
        if (_excluded.Contains(pfn)) return PageStatus.Excluded;
        var st = _inner.ReadPage(pfn, destination);
        if (st == PageStatus.Present && _patches.TryGetValue(pfn, out var l))
            foreach (var (o, b) in l) b.CopyTo(destination[o..]);
        return st;
    }

    public PageStatus GetPageStatus(ulong pfn) => _excluded.Contains(pfn) ? PageStatus.Excluded : _inner.GetPageStatus(pfn);

    /// <summary>A fresh program over patched sample memory (its own caches); the patches are applied by <paramref name="patch"/>.</summary>
    public static KernelProgram SampleProgram(Action<PatchedMemory, KernelProgram> patch)
    {
        var v = SampleDump.Vmcore;
        var mem = new PatchedMemory(v.Dump);
        var options = X86_64Translator.OptionsFrom(v.Dump.VmcoreInfo, v.Dump.Cpus);
        if (v.Dump.VmcoreInfo is null || !v.Dump.VmcoreInfo.TryGetNumber("phys_base", out _)) options.PhysBase = v.Dump.PhysBase ?? 0;
        var p = new KernelProgram(mem, v.Dump.VmcoreInfo, v.Dump.Cpus, null, options);
        patch(mem, p);
        p.InvalidateCaches();
        return p;
    }

    public static ulong Phys(KernelProgram p, ulong va) => p.Translator.ToPhysical(va, AddressSpace.KernelVirtual);
}
