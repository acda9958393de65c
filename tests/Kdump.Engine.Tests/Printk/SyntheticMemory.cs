using System.Buffers.Binary;
using Kdump.Engine.Dump;

namespace Kdump.Engine.Tests.Printk;

/// <summary>Sparse kernel virtual memory for tests: pages exist once written; reads of missing pages fault.</summary>
public sealed class SyntheticMemory
{
    public const int PageSize = 4096;
    private readonly SortedDictionary<ulong, byte[]> _pages = new();
    public int Reads { get; private set; }

    public void Write(ulong address, ReadOnlySpan<byte> data)
    {
        int done = 0;
        while (done < data.Length)
        {
            ulong a = address + (ulong)done;
            ulong page = a & ~(ulong)(PageSize - 1);
            int off = (int)(a - page);
            int n = Math.Min(PageSize - off, data.Length - done);
            if (!_pages.TryGetValue(page, out var p)) _pages[page] = p = new byte[PageSize];
            data.Slice(done, n).CopyTo(p.AsSpan(off));
            done += n;
        }
    }

    public void WriteU64(ulong address, ulong value) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, value); Write(address, b); }
    public void WriteU32(ulong address, uint value) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, value); Write(address, b); }
    public void WriteU16(ulong address, ushort value) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, value); Write(address, b); }
    public void WriteU8(ulong address, byte value) => Write(address, new[] { value });
    public void Zero(ulong address, int length) => Write(address, new byte[length]);

    public void RemovePage(ulong address) => _pages.Remove(address & ~(ulong)(PageSize - 1));

    /// <summary>Every written page (address, bytes), in address order.</summary>
    public IEnumerable<KeyValuePair<ulong, byte[]>> Pages => _pages;

    public void Read(ulong address, Span<byte> destination)
    {
        Reads++;
        int done = 0;
        while (done < destination.Length)
        {
            ulong a = address + (ulong)done;
            ulong page = a & ~(ulong)(PageSize - 1);
            int off = (int)(a - page);
            int n = Math.Min(PageSize - off, destination.Length - done);
            if (!_pages.TryGetValue(page, out var p)) throw new MemoryFaultException(a, PageStatus.NotInDump, "kernel virtual");
            p.AsSpan(off, n).CopyTo(destination.Slice(done));
            done += n;
        }
    }
}
