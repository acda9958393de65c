using System.Buffers.Binary;
using System.Text;

namespace Kdump.Engine.Tests.Printk;

/// <summary>
/// Writes <see cref="SyntheticMemory"/> (kernel-image virtual addresses) as an x86_64 ELF vmcore like the kernel's
/// /proc/vmcore: ELF header, program headers right after it, one PT_NOTE with VMCOREINFO, then one PT_LOAD per run
/// of consecutive pages with p_vaddr in the kernel image mapping and p_paddr = p_vaddr - __START_KERNEL_map.
/// Lets makedumpfile read the same bytes the engine reads.
/// </summary>
public static class ElfCoreWriter
{
    public const ulong StartKernelMap = 0xffffffff80000000;

    public static void Write(string path, SyntheticMemory memory, string vmcoreInfo)
    {
        var runs = new List<(ulong Va, List<byte[]> Pages)>();
        foreach (var (va, bytes) in memory.Pages)
        {
            if (va < StartKernelMap) throw new ArgumentException("only kernel-image addresses can be written");
            if (runs.Count > 0 && runs[^1].Va + (ulong)runs[^1].Pages.Count * SyntheticMemory.PageSize == va) runs[^1].Pages.Add(bytes);
            else runs.Add((va, new List<byte[]> { bytes }));
        }

        byte[] name = Encoding.ASCII.GetBytes("VMCOREINFO\0");
        byte[] desc = Encoding.ASCII.GetBytes(vmcoreInfo);
        int Pad4(int n) => (n + 3) & ~3;
        var note = new byte[12 + Pad4(name.Length) + Pad4(desc.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(0), (uint)name.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(4), (uint)desc.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(8), 0);
        name.CopyTo(note, 12);
        desc.CopyTo(note, 12 + Pad4(name.Length));

        int phnum = 1 + runs.Count;
        long noteOffset = 64 + 56L * phnum;
        long dataOffset = (noteOffset + note.Length + 4095) & ~4095L;

        using var fs = File.Create(path);
        var hdr = new byte[64];
        hdr[0] = 0x7f; hdr[1] = (byte)'E'; hdr[2] = (byte)'L'; hdr[3] = (byte)'F';
        hdr[4] = 2; hdr[5] = 1; hdr[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(hdr.AsSpan(16), 4);   // ET_CORE
        BinaryPrimitives.WriteUInt16LittleEndian(hdr.AsSpan(18), 62);  // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(hdr.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(hdr.AsSpan(32), 64);  // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(hdr.AsSpan(52), 64);  // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(hdr.AsSpan(54), 56);  // e_phentsize
        BinaryPrimitives.WriteUInt16LittleEndian(hdr.AsSpan(56), (ushort)phnum);
        fs.Write(hdr);

        void Phdr(uint type, long offset, ulong vaddr, ulong paddr, ulong size, ulong align)
        {
            var p = new byte[56];
            BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(0), type);
            BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(4), type == 1 ? 7u : 0u);
            BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(8), (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(16), vaddr);
            BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(24), paddr);
            BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(32), size);
            BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(40), size);
            BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(48), align);
            fs.Write(p);
        }

        Phdr(4, noteOffset, 0, 0, (ulong)note.Length, 0);
        long off = dataOffset;
        foreach (var (va, pages) in runs)
        {
            ulong size = (ulong)pages.Count * SyntheticMemory.PageSize;
            Phdr(1, off, va, va - StartKernelMap, size, 0);
            off += (long)size;
        }
        fs.Write(note);
        fs.Position = dataOffset;
        foreach (var (_, pages) in runs)
            foreach (var p in pages) fs.Write(p);
    }
}
