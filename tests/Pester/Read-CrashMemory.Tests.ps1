BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'VmcoreTestDump.ps1')
    $script:Dir = Join-Path ([IO.Path]::GetTempPath()) "kdump-pester-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Dir | Out-Null
    $script:Elf = New-TestElfVmcore -Path (Join-Path $Dir 'vmcore.elf')
}
AfterAll {
    Get-Vmcore | Close-Vmcore
    Remove-Item $Dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Read-CrashMemory' {
    BeforeAll { $script:V = Open-Vmcore $Elf }

    It 'reads bytes at a physical address' {
        $b = Read-CrashMemory -PhysicalAddress 0x1000 -Length 16
        $b.Address | Should -Be 0x1000
        [Text.Encoding]::ASCII.GetString($b.Bytes) | Should -Be 'page 1 hello kdu'
    }
    It 'formats like hexdump -C' {
        $text = Read-CrashMemory -PhysicalAddress 0x2000 -Length 20 | Out-String
        $text | Should -Match '00002000  70 61 67 65 20 32 20 68  65 6c 6c 6f 20 6b 64 75  \|page 2 hello kdu\|'
        $text | Should -Match '00002010  6d 70 20 70 .*\|mp p\|'
    }
    It 'reads across pages' {
        $b = Read-CrashMemory -PhysicalAddress 0xff8 -Length 16
        [Text.Encoding]::ASCII.GetString($b.Bytes) | Should -Be 'e 0 hellpage 1 h'
    }
    It 'takes -Vmcore and the address from the pipeline' {
        $b = [pscustomobject]@{ PhysicalAddress = 0x3000; Vmcore = $V } | Read-CrashMemory -Length 6
        [Text.Encoding]::ASCII.GetString($b.Bytes) | Should -Be 'page 3'
    }
    It 'an excluded page is a PageExcluded error with the address as target; readable bytes still come' {
        $b = @(Read-CrashMemory -PhysicalAddress 0x5ff0 -Length 32 -ErrorVariable e -ErrorAction SilentlyContinue)
        $b.Count | Should -Be 1
        $b[0].Length | Should -Be 16
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'PageExcluded,*'
        $e[0].TargetObject | Should -Be 0x6000
    }
    It 'an address beyond memory is PageNotInDump' {
        Read-CrashMemory -PhysicalAddress 0x100000 -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'PageNotInDump,*'
    }
    It 'without an open dump says so' {
        Get-Vmcore | Close-Vmcore
        { Read-CrashMemory 0 -ErrorAction Stop } | Should -Throw -ErrorId 'VmcoreNotOpen,*'
    }
}
