using System.Buffers.Binary;
using Kdump.Engine.Dump;

namespace Kdump.Engine.Tests;

/// <summary>An in-memory IPhysicalMemory: sparse pages, each with a status (Present/Excluded/...).</summary>
public sealed class FakePhysicalMemory : IPhysicalMemory
{
    private readonly Dictionary<ulong, byte[]> _pages = new();
    private readonly Dictionary<ulong, PageStatus> _status = new();
    public int PageSize => 4096;
    public ulong MaxPfn { get; set; } = 1UL << 24; // 64 GiB
    public int Reads { get; private set; }

    public PageStatus ReadPage(ulong pfn, Span<byte> destination)
    {
        Reads++;
        var st = GetPageStatus(pfn);
        if (st != PageStatus.Present) return st;
        if (_pages.TryGetValue(pfn, out var p)) p.CopyTo(destination); else destination[..PageSize].Clear();
        return PageStatus.Present;
    }

    public PageStatus GetPageStatus(ulong pfn) => pfn >= MaxPfn ? PageStatus.NotInDump : _status.TryGetValue(pfn, out var s) ? s : PageStatus.Present;

    public void SetStatus(ulong pfn, PageStatus s) => _status[pfn] = s;

    private byte[] Page(ulong pfn) => _pages.TryGetValue(pfn, out var p) ? p : _pages[pfn] = new byte[PageSize];

    public void Write(ulong pa, ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length;)
        {
            ulong a = pa + (ulong)i;
            int off = (int)(a % 4096);
            int n = Math.Min(4096 - off, data.Length - i);
            data.Slice(i, n).CopyTo(Page(a / 4096).AsSpan(off));
            i += n;
        }
    }

    public void WriteU64(ulong pa, ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); Write(pa, b); }
    public void WriteU32(ulong pa, uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); Write(pa, b); }

    public byte[] ReadBytes(ulong pa, int n)
    {
        var r = new byte[n];
        for (int i = 0; i < n; i++) { ulong a = pa + (ulong)i; r[i] = _pages.TryGetValue(a / 4096, out var p) ? p[a % 4096] : (byte)0; }
        return r;
    }
}

/// <summary>Builds x86_64 page tables inside a FakePhysicalMemory.</summary>
public sealed class PageTableBuilder
{
    private readonly FakePhysicalMemory _mem;
    private ulong _next;
    public int Levels { get; }
    public ulong Root { get; }
    public const ulong Rw = 0x3; // present | rw
    public const ulong User = 0x4;

    public PageTableBuilder(FakePhysicalMemory mem, int levels = 4, ulong tableArea = 0x100000)
    {
        _mem = mem; Levels = levels; _next = tableArea;
        Root = Alloc();
    }

    public ulong Alloc() { var p = _next; _next += 4096; return p; }

    private int[] Shifts => Levels == 5 ? new[] { 48, 39, 30, 21, 12 } : new[] { 39, 30, 21, 12 };

    /// <summary>Returns the physical address of the entry for va at the level with the given shift, creating tables above it.</summary>
    public ulong EntryAddress(ulong va, int leafShift, ulong tableFlags = 0x67)
    {
        ulong table = Root;
        foreach (var s in Shifts)
        {
            ulong ea = table + ((va >> s) & 511) * 8;
            if (s == leafShift) return ea;
            ulong e = BinaryPrimitives.ReadUInt64LittleEndian(_mem.ReadBytes(ea, 8));
            if ((e & 1) == 0) { var t = Alloc(); e = t | tableFlags; _mem.WriteU64(ea, e); }
            table = e & 0x000ffffffffff000UL;
        }
        throw new InvalidOperationException("bad shift");
    }

    public void Map4K(ulong va, ulong pa, ulong flags = Rw) => _mem.WriteU64(EntryAddress(va, 12), pa | flags);
    public void Map2M(ulong va, ulong pa, ulong flags = Rw) => _mem.WriteU64(EntryAddress(va, 21), pa | flags | 0x80);
    public void Map1G(ulong va, ulong pa, ulong flags = Rw) => _mem.WriteU64(EntryAddress(va, 30), pa | flags | 0x80);
    public void SetPte(ulong va, ulong raw) => _mem.WriteU64(EntryAddress(va, 12), raw);
}
