using System.Buffers.Binary;
using System.Text;
using Kdump.Engine.Dump;

namespace Kdump.Engine.Tests.Printk;

/// <summary>
/// Test-only reader of ELF vmcores (QEMU paging=false, makedumpfile -E, /proc/vmcore): physical memory by p_paddr
/// (bytes past p_filesz read as zero), VMCOREINFO from the notes, and kernel-image virtual addresses translated as
/// va - __START_KERNEL_map + phys_base. Enough to read the printk ring, which is static kernel data.
/// </summary>
public sealed class TestElfPhysicalReader : IDisposable
{
    private readonly FileStream _fs;
    private readonly List<(ulong Paddr, ulong FileSize, ulong MemSize, long Offset)> _loads = new();
    private readonly long _physBase;

    public VmcoreInfo VmcoreInfo { get; }

    public TestElfPhysicalReader(string path)
    {
        _fs = File.OpenRead(path);
        var eh = ReadAt(0, 64);
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(eh.AsSpan(0x20));
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(eh.AsSpan(0x28));
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh.AsSpan(0x36));
        uint phnum = BinaryPrimitives.ReadUInt16LittleEndian(eh.AsSpan(0x38));
        if (phnum == 0xffff) phnum = BinaryPrimitives.ReadUInt32LittleEndian(ReadAt((long)shoff, 64).AsSpan(0x2c));
        if (phnum > 1_000_000 || phentsize < 56) throw new InvalidDataException("bad program headers");
        var ph = ReadAt((long)phoff, (int)(phnum * phentsize));
        string? vmci = null;
        for (int i = 0; i < phnum; i++)
        {
            var p = ph.AsSpan(i * phentsize);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(p);
            long off = (long)BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
            ulong paddr = BinaryPrimitives.ReadUInt64LittleEndian(p[24..]);
            ulong filesz = BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
            ulong memsz = BinaryPrimitives.ReadUInt64LittleEndian(p[40..]);
            if (type == 1) _loads.Add((paddr, filesz, memsz, off));
            else if (type == 4 && vmci is null && filesz < 1 << 24) vmci = FindVmcoreInfo(ReadAt(off, (int)filesz));
        }
        VmcoreInfo = new VmcoreInfo(vmci ?? throw new InvalidDataException("no VMCOREINFO note"), "ELF note");
        VmcoreInfo.TryGetNumber("phys_base", out _physBase);
    }

    private static string? FindVmcoreInfo(byte[] notes)
    {
        int p = 0;
        while (p + 12 <= notes.Length)
        {
            int namesz = (int)BinaryPrimitives.ReadUInt32LittleEndian(notes.AsSpan(p));
            int descsz = (int)BinaryPrimitives.ReadUInt32LittleEndian(notes.AsSpan(p + 4));
            int dp = p + 12 + ((namesz + 3) & ~3);
            if (namesz < 0 || descsz < 0 || dp + descsz > notes.Length) return null;
            if (Encoding.ASCII.GetString(notes, p + 12, namesz).TrimEnd('\0') == "VMCOREINFO")
                return Encoding.ASCII.GetString(notes, dp, descsz).TrimEnd('\0');
            p = dp + ((descsz + 3) & ~3);
        }
        return null;
    }

    private byte[] ReadAt(long offset, int length)
    {
        var b = new byte[length];
        _fs.Position = offset;
        _fs.ReadExactly(b);
        return b;
    }

    public void ReadPhysical(ulong address, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong a = address + (ulong)done;
            var seg = _loads.FirstOrDefault(l => a >= l.Paddr && a < l.Paddr + l.MemSize);
            if (seg.MemSize == 0) throw new MemoryFaultException(a, PageStatus.NotInDump);
            ulong inSeg = a - seg.Paddr;
            int n = (int)Math.Min((ulong)(destination.Length - done), seg.MemSize - inSeg);
            var dst = destination.Slice(done, n);
            if (inSeg >= seg.FileSize) dst.Clear();
            else
            {
                int fromFile = (int)Math.Min((ulong)n, seg.FileSize - inSeg);
                _fs.Position = seg.Offset + (long)inSeg;
                _fs.ReadExactly(dst[..fromFile]);
                dst[fromFile..].Clear();
            }
            done += n;
        }
    }

    public void ReadVirtual(ulong address, Span<byte> destination)
    {
        const ulong StartKernelMap = 0xffffffff80000000;
        if (address < StartKernelMap) throw new MemoryFaultException(address, PageStatus.NotInDump, "kernel virtual", "only the kernel image mapping is translated by this test reader");
        ReadPhysical(address - StartKernelMap + (ulong)_physBase, destination);
    }

    public void Dispose() => _fs.Dispose();
}
