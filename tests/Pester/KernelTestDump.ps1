# Builds a tiny synthetic ELF vmcore with x86_64 page tables and a System.map for the kernel-layer cmdlet tests.
# Physical layout (4 KiB pages): 0x1000 PGD (init_top_pgt), 0x2000 PUD, 0x3000 PMD, 0x4000 PTE table,
# 0x5000 data "hello vmalloc", 0x6000 words 1..4. Kernel VA 0xffffc90000000000u -> 0x5000 (4 KiB page),
# 0xffffc90000001000u = swap entry (type 2, offset 0x345), 0xffffc90000002000u unmapped.
function New-TestKernelVmcore {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $SystemMapPath)
    $pages = 8
    $mem = [byte[]]::new($pages * 4096)
    function Put64([int] $at, [uint64] $v) { [BitConverter]::GetBytes($v).CopyTo($mem, $at) }
    Put64 (0x1000 + 0x192 * 8) (0x2000 -bor 0x63)     # PGD[402] -> PUD
    Put64 (0x2000) (0x3000 -bor 0x63)                 # PUD[0] -> PMD
    Put64 (0x3000) (0x4000 -bor 0x63)                 # PMD[0] -> PTE table
    Put64 (0x4000) (0x5000 -bor 0x63)                 # PTE[0] -> data page
    $swap = ((([uint64]::MaxValue -bxor [uint64]0x345) -shl 14) -shr 5) -bor ([uint64]2 -shl 59)
    Put64 (0x4008) $swap                              # PTE[1] = swap entry
    [Text.Encoding]::ASCII.GetBytes('hello vmalloc').CopyTo($mem, 0x5000)
    for ($i = 0; $i -lt 4; $i++) { Put64 (0x6000 + 8 * $i) ([uint64]($i + 1)) }

    $vi = [Text.Encoding]::ASCII.GetBytes("OSRELEASE=6.1.0-pester`nPAGESIZE=4096`nKERNELOFFSET=0`nNUMBER(phys_base)=0`nSYMBOL(init_top_pgt)=ffffffff80001000`nNUMBER(pgtable_l5_enabled)=0`n")
    $note = [IO.MemoryStream]::new(); $bw = [IO.BinaryWriter]::new($note)
    $name = [Text.Encoding]::ASCII.GetBytes("VMCOREINFO`0")
    $bw.Write([uint32]$name.Length); $bw.Write([uint32]$vi.Length); $bw.Write([uint32]0)
    $bw.Write($name); while ($note.Length % 4) { $bw.Write([byte]0) }
    $bw.Write($vi); while ($note.Length % 4) { $bw.Write([byte]0) }
    $notes = $note.ToArray()

    $ms = [IO.MemoryStream]::new(); $w = [IO.BinaryWriter]::new($ms)
    $phoff = 64; $phnum = 2; $notesOff = $phoff + 56 * $phnum; $dataOff = 4096
    $w.Write([byte[]](0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    $w.Write([uint16]4); $w.Write([uint16]62); $w.Write([uint32]1)
    $w.Write([uint64]0); $w.Write([uint64]$phoff); $w.Write([uint64]0); $w.Write([uint32]0)
    $w.Write([uint16]64); $w.Write([uint16]56); $w.Write([uint16]$phnum); $w.Write([uint16]64); $w.Write([uint16]0); $w.Write([uint16]0)
    $w.Write([uint32]4); $w.Write([uint32]0); $w.Write([uint64]$notesOff); $w.Write([uint64]0); $w.Write([uint64]0)
    $w.Write([uint64]$notes.Length); $w.Write([uint64]$notes.Length); $w.Write([uint64]4)
    $w.Write([uint32]1); $w.Write([uint32]7); $w.Write([uint64]$dataOff); $w.Write([uint64]0xffff888000000000u); $w.Write([uint64]0)
    $w.Write([uint64]$mem.Length); $w.Write([uint64]$mem.Length); $w.Write([uint64]4096)
    $w.Write($notes)
    while ($ms.Length -lt $dataOff) { $w.Write([byte]0) }
    $w.Write($mem)
    [IO.File]::WriteAllBytes($Path, $ms.ToArray())
    Set-Content -LiteralPath $SystemMapPath -Value @(
        'ffffffff80001000 D init_top_pgt', 'ffffffff80005000 D test_string', 'ffffffff80006000 D test_words', 'ffffffff80007000 B _end')
    $Path
}
