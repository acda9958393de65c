using System.Buffers.Binary;
using Kdump.Engine.Types.Dwarf;

namespace Kdump.Engine.Symbols;

/// <summary>
/// Reads the .symtab of a vmlinux (functions and objects with sizes) into a <see cref="SymbolTable"/>, shifted by
/// the dump's KASLR offset. Reads the memory-mapped section directly (no per-symbol objects).
/// </summary>
internal static class VmlinuxSymbols
{
    /// <summary>__START_KERNEL_map: symbols at or above it are in the kernel image and move with KASLR.</summary>
    public const ulong StartKernelMap = 0xffffffff80000000UL;
    private const ushort ShnUndef = 0, ShnAbs = 0xfff1, ShnCommon = 0xfff2, ShnXindex = 0xffff;
    private const byte SttObject = 1, SttFunc = 2, SttSection = 3, SttFile = 4, SttTls = 6;
    private const byte StbLocal = 0, StbGlobal = 1, StbWeak = 2;

    public static bool HasSymbols(ElfImage elf) => FindSymtab(elf) is not null;

    private static ElfSection? FindSymtab(ElfImage elf) =>
        elf.Sections.FirstOrDefault(s => s.Type == ElfSection.ShtSymtab && ElfImage.HasData(s) && s.EntrySize == 24);

    /// <summary>Address of a symbol's first definition as linked (no KASLR), or null.</summary>
    public static (ulong Value, ulong Size, ushort Section)? FindRaw(ElfImage elf, string name)
    {
        var symtab = FindSymtab(elf);
        if (symtab is null || symtab.Link >= elf.Sections.Count) return null;
        var syms = elf.SectionData(symtab).Span;
        var strs = elf.SectionData(elf.Sections[(int)symtab.Link]).Span;
        Span<byte> want = stackalloc byte[Math.Min(512, System.Text.Encoding.UTF8.GetMaxByteCount(name.Length))];
        int n = System.Text.Encoding.UTF8.GetBytes(name.AsSpan(0, Math.Min(name.Length, 128)), want);
        var key = want[..n];
        for (int off = 24; off + 24 <= syms.Length; off += 24)
        {
            var e = syms.Slice(off, 24);
            ushort shndx = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
            if (shndx == ShnUndef) continue;
            uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(e);
            if (nameOff >= (uint)strs.Length) continue;
            var s = strs[(int)nameOff..];
            if (s.Length > key.Length && s[key.Length] == 0 && s.StartsWith(key))
                return (BinaryPrimitives.ReadUInt64LittleEndian(e[8..]), BinaryPrimitives.ReadUInt64LittleEndian(e[16..]), shndx);
        }
        return null;
    }

    public static SymbolTable Read(ElfImage elf, ulong kaslrOffset, CancellationToken cancel = default)
    {
        var symtab = FindSymtab(elf) ?? throw new KdumpException("VmlinuxNoSymbols", KdumpErrorKind.NotFound, $"'{elf.Path}' has no symbol table (.symtab).", elf.Path);
        if (symtab.Link >= elf.Sections.Count) throw new KdumpException("VmlinuxInvalid", KdumpErrorKind.InvalidData, $"'{elf.Path}': .symtab links to a missing string table.", elf.Path);
        var syms = elf.SectionData(symtab).Span;
        var strs = elf.SectionData(elf.Sections[(int)symtab.Link]).Span;
        long count = syms.Length / 24;
        if (count > SymbolTableBuilder.MaxSymbols) throw new KdumpException("SymbolTableTooLarge", KdumpErrorKind.LimitExceeded, $"'{elf.Path}' has {count} symbols (limit {SymbolTableBuilder.MaxSymbols}).", count);
        var b = new SymbolTableBuilder();
        ulong low = ulong.MaxValue, high = 0;
        for (int i = 1; i < count; i++)
        {
            if ((i & 0xffff) == 0) cancel.ThrowIfCancellationRequested();
            var e = syms.Slice(i * 24, 24);
            uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(e);
            byte info = e[4];
            ushort shndx = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]);
            byte type = (byte)(info & 0xf), bind = (byte)(info >> 4);
            if (shndx == ShnUndef || type is SttSection or SttFile || nameOff == 0 || nameOff >= (uint)strs.Length) continue;
            var rest = strs[(int)nameOff..];
            int len = rest.IndexOf((byte)0);
            if (len <= 0) continue;
            var name = rest[..len];
            char letter = Letter(elf, shndx, type);
            if (letter == '\0') continue;
            if (bind == StbWeak) letter = type == SttObject ? 'V' : 'W';
            else if (bind == StbLocal) letter = char.ToLowerInvariant(letter);
            ulong addr = value;
            if (shndx != ShnAbs && value >= StartKernelMap) addr = unchecked(value + kaslrOffset);
            b.Add(name, addr, letter, type is SttObject or SttFunc or SttTls && size != 0 ? size : null);
            if (addr >= StartKernelMap && letter is not ('A' or 'a'))
            {
                if (addr < low) low = addr;
                ulong end = addr + Math.Max(size, 1);
                if (end > high) high = end;
            }
        }
        if (low == ulong.MaxValue) { low = 0; high = ulong.MaxValue; }
        return b.Build($"vmlinux ELF symbols {elf.Path}", null, low, high);
    }

    private static char Letter(ElfImage elf, ushort shndx, byte type)
    {
        if (shndx == ShnAbs) return 'A';
        if (shndx == ShnCommon) return 'C';
        if (shndx >= elf.Sections.Count || shndx == ShnXindex) return '?';
        var s = elf.Sections[shndx];
        if ((s.Flags & ElfSection.ShfAlloc) == 0) return '\0'; // debugging-only sections
        if ((s.Flags & ElfSection.ShfExecinstr) != 0) return 'T';
        if (s.IsNoBits) return 'B';
        if ((s.Flags & ElfSection.ShfWrite) != 0) return 'D';
        return 'R';
    }
}
