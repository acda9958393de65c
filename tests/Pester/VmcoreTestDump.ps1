# Builds tiny synthetic ELF vmcores for the Pester tests (dot-sourced; no dependency on the engine).
function New-TestElfVmcore {
    param(
        [Parameter(Mandatory)] [string] $Path,
        [string] $Release = '6.1.0-pester',
        [int] $Pages = 8,          # RAM pages [0, Pages)
        [int] $FilePages = 6       # pages with data; the rest of the segment is excluded (makedumpfile -E style)
    )
    $vi = [Text.Encoding]::ASCII.GetBytes("OSRELEASE=$Release`nPAGESIZE=4096`nKERNELOFFSET=1a000000`n")
    $note = [IO.MemoryStream]::new()
    $bw = [IO.BinaryWriter]::new($note)
    $name = [Text.Encoding]::ASCII.GetBytes("VMCOREINFO`0")
    $bw.Write([uint32]$name.Length); $bw.Write([uint32]$vi.Length); $bw.Write([uint32]0)
    $bw.Write($name); while ($note.Length % 4) { $bw.Write([byte]0) }
    $bw.Write($vi); while ($note.Length % 4) { $bw.Write([byte]0) }
    $notes = $note.ToArray()

    $ms = [IO.MemoryStream]::new()
    $w = [IO.BinaryWriter]::new($ms)
    $phoff = 64; $phnum = 2
    $notesOff = $phoff + 56 * $phnum
    $dataOff = 4096
    # ELF header
    $w.Write([byte[]](0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    $w.Write([uint16]4); $w.Write([uint16]62); $w.Write([uint32]1)
    $w.Write([uint64]0); $w.Write([uint64]$phoff); $w.Write([uint64]0); $w.Write([uint32]0)
    $w.Write([uint16]64); $w.Write([uint16]56); $w.Write([uint16]$phnum); $w.Write([uint16]64); $w.Write([uint16]0); $w.Write([uint16]0)
    # PT_NOTE
    $w.Write([uint32]4); $w.Write([uint32]0); $w.Write([uint64]$notesOff); $w.Write([uint64]0); $w.Write([uint64]0)
    $w.Write([uint64]$notes.Length); $w.Write([uint64]$notes.Length); $w.Write([uint64]4)
    # PT_LOAD
    $w.Write([uint32]1); $w.Write([uint32]7); $w.Write([uint64]$dataOff); $w.Write([uint64]0); $w.Write([uint64]0)
    $w.Write([uint64](4096 * $FilePages)); $w.Write([uint64](4096 * $Pages)); $w.Write([uint64]4096)
    $w.Write($notes)
    $ms.SetLength($dataOff); $ms.Position = $dataOff
    for ($p = 0; $p -lt $FilePages; $p++) {
        $page = [byte[]]::new(4096)
        $text = [Text.Encoding]::ASCII.GetBytes(("page {0} hello kdump " -f $p))
        for ($i = 0; $i -lt 4096; $i++) { $page[$i] = $text[$i % $text.Length] }
        $w.Write($page)
    }
    $w.Flush()
    [IO.File]::WriteAllBytes($Path, $ms.ToArray())
    $Path
}
