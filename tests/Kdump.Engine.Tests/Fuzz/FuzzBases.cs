using System.Buffers.Binary;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Tests.Linux;
using Kdump.Engine.Tests.Writers;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Tests.Fuzz;

/// <summary>The fuzzer's base dumps, built once: synthetic dumps of every format, the sample, and an ELF rebuilt from the sample.</summary>
internal static class FuzzBases
{
    private static readonly Lazy<List<FuzzBase>> s_all = new(Build);
    public static List<FuzzBase> All() => s_all.Value;

    private const string Vi = "OSRELEASE=6.1.0-fuzz\nBUILD-ID=aa\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffffffff8260a000\nSYMBOL(init_top_pgt)=ffffffff8260a000\nNUMBER(phys_base)=0\nKERNELOFFSET=0\nCRASHTIME=1700000000\n";

    private static List<FuzzBase> Build()
    {
        var list = new List<FuzzBase>();
        KdumpCompressedWriter K(DumpCompression c, Action<KdumpCompressedWriter>? more = null)
        {
            var w = new KdumpCompressedWriter { Compression = c, MaxMapnr = 600 };
            w.Notes.Add(("CORE", 1, NoteWriter.PrStatusX86_64(1, new Dictionary<string, ulong> { ["rip"] = 0xffffffff8100abcd })));
            w.Notes.Add(("CORE", 1, NoteWriter.PrStatusX86_64(2, new Dictionary<string, ulong> { ["rip"] = 0xffffffff8100abcd })));
            more?.Invoke(w);
            return w;
        }
        void AddKdump(string name, KdumpCompressedWriter w)
        {
            var img = w.Build();
            list.Add(new FuzzBase { Name = name, Images = new[] { img }, Regions = new[] { KdumpRegions(img) } });
        }
        AddKdump("kdump-zlib", K(DumpCompression.Zlib));
        AddKdump("kdump-lzo", K(DumpCompression.Lzo));
        AddKdump("kdump-zstd-v3", K(DumpCompression.Zstd, w => w.HeaderVersion = 3));
        AddKdump("kdump-snappy-be32", K(DumpCompression.Snappy, w => { w.BigEndian = true; w.Is64 = false; w.Machine = "ppc"; }));
        AddKdump("kdump-raw-incomplete", K(DumpCompression.None, w => w.WrittenDescriptors = 300));
        AddKdump("kdump-novmcoreinfo", K(DumpCompression.Zlib, w => { w.VmcoreInfoText = null; w.PageData = p => p == 77 ? VmcoreInfoPage() : SyntheticMemory.Page(p); w.IsZero = p => p % 5 == 0 && p != 77; }));

        var elf = new ElfVmcoreWriter();
        elf.Notes.Add(("CORE", 1, NoteWriter.PrStatusX86_64(77, new Dictionary<string, ulong> { ["rip"] = 0xffffffff8100abcd })));
        elf.AddVmcoreInfo(Vi);
        elf.AddRam(0x10000, 0x4000, vaddr: 0xffffffff81000000);
        elf.AddRam(0x1000, 0x9e000, vaddr: 0xffff888000001000);
        elf.AddRam(0x100000, 0x80000, fileSize: 0x40000);
        var elfImage = elf.Build();
        list.Add(new FuzzBase { Name = "elf", Images = new[] { elfImage }, Regions = new[] { ElfRegions(elfImage) } });
        var elfNoVi = new ElfVmcoreWriter { PageData = p => p == 0x30 ? VmcoreInfoPage() : SyntheticMemory.Page(p) };
        elfNoVi.AddRam(0x1000, 0x60000);
        var elfNoViImage = elfNoVi.Build();
        list.Add(new FuzzBase { Name = "elf-novmcoreinfo", Images = new[] { elfNoViImage }, Regions = new[] { ElfRegions(elfNoViImage) } });

        var flatK = new FlattenedWriter { ChunkSize = 8192, Shuffle = true }.Build(K(DumpCompression.Zlib).Build());
        list.Add(new FuzzBase { Name = "flat-kdump", Images = new[] { flatK }, Regions = new[] { FlattenedRegions(flatK) } });
        var flatE = new FlattenedWriter { ChunkSize = 16384, Shuffle = false }.Build(elfImage);
        list.Add(new FuzzBase { Name = "flat-elf", Images = new[] { flatE }, Regions = new[] { FlattenedRegions(flatE) } });

        var a = K(DumpCompression.Zlib, w => w.Split = (0, 250)).Build();
        var b = K(DumpCompression.Zlib, w => w.Split = (250, 600)).Build();
        list.Add(new FuzzBase { Name = "split", Images = new[] { a, b }, Regions = new[] { KdumpRegions(a), KdumpRegions(b) } });

        if (TestEnvironment.HaveSample) { list.Add(SampleKdump()); list.Add(SampleElf()); }
        return list;
    }

    /// <summary>A page holding a VMCOREINFO text at offset 0x100, for the recovery scan.</summary>
    private static byte[] VmcoreInfoPage()
    {
        var p = new byte[4096];
        System.Text.Encoding.ASCII.GetBytes(Vi + "SYMBOL(init_task)=ffffffff82a14940\nSYMBOL(_stext)=ffffffff81000000\nOFFSET(list_head.next)=0\n").CopyTo(p, 0x100);
        return p;
    }

    internal static List<Region> KdumpRegions(byte[] image)
    {
        using var src = new MutantSource("regions", image, image.Length, new());
        var h = KdumpHeader.Read(src);
        long bs = h.BlockSize, bitmap = (1L + h.SubHdrSize) * bs, bitmapBytes = h.BitmapBlocks * bs, desc = bitmap + bitmapBytes;
        using var r = new KdumpCompressedReader(new MutantSource("regions", image, image.Length, new()), DumpLimits.Default, EngineHost.Null, force: true);
        long data = desc + (long)r.Info.DumpedPages * KdumpCompressedReader.PageDescSize;
        return new List<Region>
        {
            new("header", 0, 512), new("subheader", bs, bitmap), new("bitmap1", bitmap, bitmap + bitmapBytes / 2),
            new("bitmap2", bitmap + bitmapBytes / 2, desc), new("descriptors", desc, data), new("data", data, image.Length),
        };
    }

    internal static List<Region> ElfRegions(byte[] image)
    {
        long phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(32));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(56));
        var regions = new List<Region> { new("ehdr", 0, 64), new("phdrs", phoff, phoff + phnum * 56L) };
        for (int i = 0; i < phnum; i++)
        {
            var p = image.AsSpan((int)(phoff + i * 56), 56);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(p);
            long off = (long)BinaryPrimitives.ReadUInt64LittleEndian(p[8..]), size = (long)BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
            if (size > 0 && off + size <= image.Length && regions.Count < 64) regions.Add(new(type == 4 ? "notes" : "data", off, off + size));
        }
        return regions;
    }

    internal static List<Region> FlattenedRegions(byte[] image)
    {
        var regions = new List<Region> { new("flat-header", 0, 4096) };
        long pos = 4096;
        int i = 0;
        while (pos + 16 <= image.Length)
        {
            long off = BinaryPrimitives.ReadInt64BigEndian(image.AsSpan((int)pos)), size = BinaryPrimitives.ReadInt64BigEndian(image.AsSpan((int)pos + 8));
            if (i++ % 3 == 0) regions.Add(new("record-header", pos, pos + 16));
            if (off < 0) break;
            if (size > 0 && i % 5 == 0) regions.Add(new("record-data", pos + 16, pos + 16 + size));
            pos += 16 + size;
        }
        return regions;
    }

    private static FuzzBase SampleKdump()
    {
        var image = File.ReadAllBytes(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        return new FuzzBase { Name = "sample-kdump", Images = new[] { image }, Regions = new[] { KdumpRegions(image) }, RealKernel = true };
    }

    /// <summary>The sample's dumped pages as an uncompressed ELF (paging-off layout), with the kernel pointers of its task_structs.</summary>
    private static FuzzBase SampleElf()
    {
        var v = SampleDump.Vmcore;
        var d = v.Dump;
        var dumped = d.EnumerateDumpedPfns().ToArray();
        var w = new ElfVmcoreWriter { PageData = pfn => { var b = new byte[4096]; d.ReadPage(pfn, b); return b; } };
        foreach (var n in d.RawNotes) w.Notes.Add((n.Name, n.Type, n.Desc));
        if (d.VmcoreInfo is { } vi && !vi.TryGetNumber("phys_base", out _) && d.PhysBase is long pb)
        {
            w.Notes.RemoveAll(n => n.name == "VMCOREINFO");
            w.AddVmcoreInfo(vi.RawText.TrimEnd('\0') + $"NUMBER(phys_base)={pb}\n");
        }
        for (int i = 0; i < dumped.Length;)
        {
            int j = i + 1;
            while (j < dumped.Length && dumped[j] == dumped[j - 1] + 1) j++;
            w.AddRam(dumped[i] * 4096, (ulong)(j - i) * 4096);
            i = j;
        }
        var image = w.Build();
        var regions = ElfRegions(image);
        // Kernel pointers in the pages of every task_struct (direct map: physically contiguous).
        var pointers = new List<long>();
        var t = TaskTable.Build(v.Kernel);
        foreach (var task in t.Tasks)
        {
            ulong pa;
            try { pa = v.Kernel.Translator.ToPhysical(task.Task, AddressSpace.KernelVirtual); }
            catch (KdumpException) { continue; }
            for (ulong a = pa & ~7UL; a < pa + 8192; a += 8)
            {
                long off = ElfOffset(image, a);
                if (off < 0 || off + 8 > image.Length) continue;
                ulong val = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan((int)off));
                if (val >> 48 == 0xffff && val != ulong.MaxValue) pointers.Add(off);
            }
        }
        return new FuzzBase { Name = "sample-elf", Images = new[] { image }, Regions = new[] { regions }, PointerOffsets = pointers, RealKernel = true };
    }

    private static long ElfOffset(byte[] image, ulong paddr)
    {
        long phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(32));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(56));
        for (int i = 0; i < phnum; i++)
        {
            var p = image.AsSpan((int)(phoff + i * 56), 56);
            if (BinaryPrimitives.ReadUInt32LittleEndian(p) != 1) continue;
            ulong off = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]), pa = BinaryPrimitives.ReadUInt64LittleEndian(p[24..]), fs = BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
            if (paddr >= pa && paddr < pa + fs) return (long)(off + (paddr - pa));
        }
        return -1;
    }
}
